-- Delink workflow steps per day/hour and action, for GET /dashboard/trends?metric=delink_events
-- (dimension status = the action: REQUESTED, APPROVED, COMPLETED, FAILED, ...). Counts are
-- uniq(event_id) states like every rollup (004), fed from delink_events_v2 (010).

CREATE TABLE IF NOT EXISTS {{database}}.delink_events_daily_v1
(
    day Date,
    action String,
    events AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, action);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.delink_events_daily_mv_v1
TO {{database}}.delink_events_daily_v1
AS SELECT
    occurred_date AS day,
    action,
    uniqState(event_id) AS events
FROM {{database}}.delink_events_v2
GROUP BY day, action;

CREATE TABLE IF NOT EXISTS {{database}}.delink_events_hourly_v1
(
    hour DateTime('UTC'),
    action String,
    events AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, action);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.delink_events_hourly_mv_v1
TO {{database}}.delink_events_hourly_v1
AS SELECT
    toStartOfHour(occurred_at) AS hour,
    action,
    uniqState(event_id) AS events
FROM {{database}}.delink_events_v2
GROUP BY hour, action;
