-- The history sink's resume points: per raw table, Kafka topic and partition, the highest offset
-- stored. On every partition assignment the sink reads these few rows instead of max(kafka_offset)
-- over the raw table (which is ordered by number, so that read scanned the whole table).
-- Each raw table has a materialised view into this table, so the watermark is written by the same
-- insert as the rows it covers: an insert that ClickHouse refused moves no watermark, and one it
-- accepted moves it (views run after the rows are in the raw table). The view of raw table T is
-- named watermark_of_T (the sink looks for it by that name and, for a raw table without one, falls
-- back to reading max(kafka_offset) from the table); named so, it sorts after every other view of
-- the table, so where views run in name order the watermark is the last thing an insert writes.
-- The raw table is part of the key so that a table replaced by a new version (…_v2, filled from
-- its topic's beginning) starts with no watermark of its own.
-- One row per insert and partition until merged (ReplacingMergeTree keeps the highest offset);
-- readers take max(max_offset), right before and after merges. Not a rollup: rebuild-rollups.ts
-- leaves it alone, because emptying it while the sink runs would make the sink replay everything.
-- The migration runner fills it from the rows stored before it.

CREATE TABLE IF NOT EXISTS {{database}}.sink_watermarks_v1
(
    raw_table String,
    kafka_topic String,
    kafka_partition UInt32,
    max_offset UInt64
)
ENGINE = ReplacingMergeTree(max_offset)
ORDER BY (raw_table, kafka_topic, kafka_partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_status_events_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'status_events_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.status_events_v1
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_nin_linkage_events_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'nin_linkage_events_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.nin_linkage_events_v1
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_bvn_linkage_events_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'bvn_linkage_events_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.bvn_linkage_events_v1
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_delink_events_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'delink_events_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.delink_events_v1
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_state_changes_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'state_changes_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.state_changes_v1
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_verifications_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'verifications_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.verifications_v1
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_audit_events_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'audit_events_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.audit_events_v1
GROUP BY kafka_topic, kafka_partition;
