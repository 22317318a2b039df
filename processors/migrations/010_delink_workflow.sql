-- The delink workflow's history (docs/delink-workflow.md). delink_events_v1's action enum knows only
-- the five v1 steps, so the workflow's events go to a v2 table with the dispatch columns; the sink
-- fills it from the delink topic's beginning (it resumes after what the table holds: nothing), so
-- the events v1 holds are in v2 too, once, without a copying SELECT here.
CREATE TABLE IF NOT EXISTS {{database}}.delink_events_v2
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    msisdn String,
    request_id String,
    action String,
    scope String,
    actor String,
    reason Nullable(String),
    attempt UInt32,
    linkage_id Nullable(String),
    outcome Nullable(String),
    idempotency_key Nullable(String),
    operator Nullable(String),
    linkage_count UInt32,
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC'),
    occurred_date Date,
    received_date Date,
    inserted_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_date)
ORDER BY (msisdn, request_id, occurred_at, event_id);

CREATE TABLE IF NOT EXISTS {{database}}.recycled_sim_events_v1
(
    event_id String,
    source String,
    kafka_topic String,
    kafka_partition UInt32,
    kafka_offset UInt64,
    sim_id String,
    msisdn String,
    action String,
    recycle_date Nullable(Date),
    operator Nullable(String),
    cleanup_status Nullable(String),
    linkage_count UInt32,
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
