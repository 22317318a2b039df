-- Watermark views (see 008) for the raw tables the delink workflow added in 010, so the history
-- sink resumes them from sink_watermarks_v1 like every other raw table instead of reading
-- max(kafka_offset) over the whole table on each partition assignment. Creating a view fills
-- its target from the rows stored before it (the migration runner populates new views).

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_delink_events_v2
TO {{database}}.sink_watermarks_v1
AS SELECT 'delink_events_v2' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.delink_events_v2
GROUP BY kafka_topic, kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.watermark_of_recycled_sim_events_v1
TO {{database}}.sink_watermarks_v1
AS SELECT 'recycled_sim_events_v1' AS raw_table, kafka_topic, kafka_partition, max(kafka_offset) AS max_offset
FROM {{database}}.recycled_sim_events_v1
GROUP BY kafka_topic, kafka_partition;
