-- Okra-style identity operations (docs: README "Okra identity lookups").
--
-- 1. Verification records carry the caller's own customer reference (verification schema v2,
--    optional `customer`). verifications_v1 cannot gain a column here (ClickHouse 18.16 has no
--    ADD COLUMN IF NOT EXISTS, and every migration statement must be safe to re-run), so the records
--    go to verifications_v2, which the sink fills from the topic's beginning (it resumes after what
--    the table holds: nothing), as delink_events_v2 was filled. The dashboard rollups get views from
--    v2 too; their counts are uniq(event_id) states, so a record reaching a rollup from both tables
--    counts once.
CREATE TABLE IF NOT EXISTS {{database}}.verifications_v2
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    request_id String,
    organisation String,
    channel Enum8('SINGLE' = 1, 'BULK' = 2, 'LINKAGE' = 3, 'LOOKUP' = 4),
    verification_status Enum8('VERIFIED' = 1, 'FAILED' = 2),
    telecom_status Nullable(String),
    lifecycle_status Nullable(String),
    customer String DEFAULT '',
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, occurred_at, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_verifications_v2
TO {{database}}.sink_watermarks_v1
AS SELECT 'verifications_v2' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.verifications_v2
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.verifications_daily_mv_v2
TO {{database}}.verifications_daily_v1
AS SELECT
    occurred_date AS day,
    organisation,
    verification_status,
    ifNull(telecom_status, '') AS number_status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.verifications_v2
GROUP BY day, organisation, verification_status, number_status;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.verifications_hourly_mv_v2
TO {{database}}.verifications_hourly_v1
AS SELECT
    toStartOfHour(occurred_at) AS hour,
    organisation,
    verification_status,
    ifNull(telecom_status, '') AS number_status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.verifications_v2
GROUP BY hour, organisation, verification_status, number_status;

-- 2. What each organisation verified or looked up for each of its customers, ordered by
--    (organisation, customer), so "by customer" reads one customer's rows. Only records that name
--    a customer. A record can be stored twice (a refill while the sink runs): readers keep one row
--    per event_id.
CREATE TABLE IF NOT EXISTS {{database}}.customer_verifications_v1
(
    organisation String,
    customer String,
    msisdn String,
    event_id String,
    channel Enum8('SINGLE' = 1, 'BULK' = 2, 'LINKAGE' = 3, 'LOOKUP' = 4),
    verification_status Enum8('VERIFIED' = 1, 'FAILED' = 2),
    occurred_at DateTime('UTC'),
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    received_date Date
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (organisation, customer, msisdn, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.customer_verifications_mv_v1
TO {{database}}.customer_verifications_v1
AS SELECT
    organisation, customer, msisdn, event_id, channel, verification_status, occurred_at,
    kafka_topic, kafka_partition, kafka_offset, received_date
FROM {{database}}.verifications_v2
WHERE customer != '';

-- 3. One record per identity the hub knows (one NIN token), with a stable record id: the first
--    24 hex digits of SHA-256 over 'hub-identity-record:' and the NIN token (the token is already a
--    keyed hash, so the id reveals nothing of the NIN; query-api/src/identity/records.ts computes the
--    same id). first_seen is when the hub first received a linkage event of the NIN: Okra's
--    created_at. min/any states tolerate a row stored twice. Not partitioned: an identity's rows
--    merge into one whatever month its events came in.
CREATE TABLE IF NOT EXISTS {{database}}.identity_records_v1
(
    record_id String,
    nin_token String,
    nin_masked AggregateFunction(any, String),
    first_seen AggregateFunction(min, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (record_id, nin_token);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.identity_records_mv_v1
TO {{database}}.identity_records_v1
AS SELECT
    substring(lower(hex(SHA256(concat('hub-identity-record:', nin_token)))), 1, 24) AS record_id,
    nin_token,
    anyState(nin_masked) AS nin_masked,
    minState(received_at) AS first_seen
FROM {{database}}.nin_linkage_events_v1
GROUP BY record_id, nin_token;
