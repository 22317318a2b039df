-- The webhook delivery log: one row per delivery attempt or redelivery request, from the
-- webhook-deliveries topic (outbound/src/delivery-log.ts). A batch replayed after a crash inserts
-- its rows again, so readers take one row per event_id (LIMIT 1 BY / uniqExact). No signing
-- secret is ever stored here; body is the CloudEvent that was sent.

CREATE TABLE IF NOT EXISTS {{database}}.webhook_deliveries_v1
(
    event_id String,
    type String,
    subscription_id String,
    organisation String,
    webhook_id String,
    event_type String,
    msisdn String,
    sequence UInt64,
    attempt UInt16,
    outcome String,
    http_status Nullable(UInt16),
    latency_ms UInt32,
    error String,
    response String,
    next_attempt_at Nullable(DateTime('UTC')),
    url String,
    body String,
    actor String,
    occurred_at DateTime('UTC'),
    occurred_ms UInt64,
    received_at DateTime('UTC'),
    source_partition UInt32,
    source_offset UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (subscription_id, occurred_ms, event_id);
