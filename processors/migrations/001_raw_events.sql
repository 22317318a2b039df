-- Raw event tables: one row per Kafka record the history sink accepted. Append-only.
-- kafka_topic/kafka_partition/kafka_offset are the sink's resume point: on start and on partition
-- assignment it continues after max(kafka_offset) of the partition, so a redelivered batch is never
-- inserted twice. An operator resending an event makes a second row with the same event_id (and a
-- new offset): queries and rollups count uniq(event_id), never rows.
-- Partitioned by the month the hub received the event: one Kafka partition's records arrive in
-- received order, so a batch rarely spans two months, and retention is DROP PARTITION by month.
-- Times are DateTime('UTC') (seconds); the dates are Date. Raw NIN/BVN never reach these tables:
-- only their keyed tokens and masks.

CREATE TABLE IF NOT EXISTS {{database}}.status_events_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    operator String,
    status Enum8('NORMAL' = 1, 'CHURNED' = 2, 'SWAPPED' = 3, 'BLACKLISTED' = 4, 'REASSIGNED' = 5),
    occurrence_date Date,
    reassignment_date Nullable(Date),
    remarks Nullable(String),
    batch_id Nullable(String),
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.nin_linkage_events_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    action Enum8('LINK' = 1, 'UNLINK' = 2),
    nin_token String,
    nin_masked String,
    link_date Date,
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.bvn_linkage_events_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    action Enum8('LINK' = 1, 'UNLINK' = 2),
    bvn_token String,
    bvn_masked String,
    holder_nin_token Nullable(String),
    nuban_token Nullable(String),
    nuban_masked Nullable(String),
    bank_code Nullable(String),
    link_date Date,
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.delink_events_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    request_id String,
    action Enum8('REQUESTED' = 1, 'APPROVED' = 2, 'REJECTED' = 3, 'CANCELLED' = 4, 'COMPLETED' = 5),
    scope Enum8('NIN' = 1, 'BVN' = 2, 'ALL' = 3),
    actor String,
    reason Nullable(String),
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.state_changes_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    version UInt64,
    operator Nullable(String),
    telecom_status Nullable(String),
    status_date Nullable(Date),
    reassignment_date Nullable(Date),
    last_swapped_date Nullable(Date),
    last_churned_date Nullable(Date),
    last_reassigned_date Nullable(Date),
    lifecycle_status String,
    is_recycled UInt8,
    active_nin_linkages UInt32,
    active_bvn_linkages UInt32,
    cleanup_status String,
    can_assign_to_new_user UInt8,
    conflict_codes Array(String),
    conflict_since Array(Date),
    cause_topic String,
    cause_event_id String,
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, version, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.verifications_v1
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
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.audit_events_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    actor String,
    organisation Nullable(String),
    action String,
    target Nullable(String),
    outcome Enum8('SUCCESS' = 1, 'DENIED' = 2, 'FAILURE' = 3),
    details String,
    request_id Nullable(String),
    ip Nullable(String),
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (actor, occurred_at, event_id);
