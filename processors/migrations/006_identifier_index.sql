-- Link and unlink events by identifier token. The raw linkage tables are ordered by number, so a
-- lookup by NIN, BVN or NUBAN token would read them whole; these tables hold the same events
-- ordered by token, so a lookup reads one token's rows. Materialised views feed them from the raw
-- tables; rebuild-rollups.ts refills them like the rollups. An event can be stored twice (a resent
-- event, or a refill while the sink runs): readers keep one row per event_id, as on the raw tables.
-- The migration runner fills each new view's table with the rows stored before it.

CREATE TABLE IF NOT EXISTS {{database}}.nin_links_by_token_v1
(
    nin_token String,
    msisdn String,
    event_id String,
    nin_masked String,
    link_date Date,
    occurred_at DateTime('UTC'),
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    received_date Date
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (nin_token, msisdn, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.nin_links_by_token_mv_v1
TO {{database}}.nin_links_by_token_v1
AS SELECT
    nin_token, msisdn, event_id, nin_masked, link_date, occurred_at,
    kafka_topic, kafka_partition, kafka_offset, received_date
FROM {{database}}.nin_linkage_events_v1;

CREATE TABLE IF NOT EXISTS {{database}}.bvn_links_by_token_v1
(
    bvn_token String,
    msisdn String,
    event_id String,
    bvn_masked String,
    nuban_masked Nullable(String),
    bank_code Nullable(String),
    link_date Date,
    occurred_at DateTime('UTC'),
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    received_date Date
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (bvn_token, msisdn, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.bvn_links_by_token_mv_v1
TO {{database}}.bvn_links_by_token_v1
AS SELECT
    bvn_token, msisdn, event_id, bvn_masked, nuban_masked, bank_code, link_date, occurred_at,
    kafka_topic, kafka_partition, kafka_offset, received_date
FROM {{database}}.bvn_linkage_events_v1;

-- Only linkages that name an account; the token is the key, so it is never null here. (The filter
-- compares with '' because the SELECT's alias, not the nullable column, is what WHERE sees.)
CREATE TABLE IF NOT EXISTS {{database}}.nuban_links_by_token_v1
(
    nuban_token String,
    msisdn String,
    event_id String,
    bvn_token String,
    bvn_masked String,
    nuban_masked Nullable(String),
    bank_code Nullable(String),
    link_date Date,
    occurred_at DateTime('UTC'),
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    received_date Date
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (nuban_token, msisdn, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.nuban_links_by_token_mv_v1
TO {{database}}.nuban_links_by_token_v1
AS SELECT
    assumeNotNull(nuban_token) AS nuban_token, msisdn, event_id, bvn_token, bvn_masked, nuban_masked,
    bank_code, link_date, occurred_at, kafka_topic, kafka_partition, kafka_offset, received_date
FROM {{database}}.bvn_linkage_events_v1
WHERE nuban_token != '';
