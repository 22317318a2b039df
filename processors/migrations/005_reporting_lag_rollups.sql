-- Reporting lag per operator: days from a status event's occurrence date to the day the hub
-- received it. Stored as a histogram (one row per received day/hour x operator x lag in days, with
-- uniq(event_id) as the weight) rather than sum/count/quantile states, because a sum or a quantile
-- state counts a resent event twice while a uniq state does not. Sum, count, average and quantiles
-- come from the histogram at query time:
--   count = sum(n), sum = sum(lag_days * n), median = quantileExactWeighted(0.5)(lag_days, n)
--   where n = uniqMerge(events) per (lag_days, ...) group.
-- Negative lag (occurrence date after the received date) is kept as reported.

CREATE TABLE IF NOT EXISTS {{database}}.reporting_lag_daily_v1
(
    day Date,
    operator String,
    lag_days Int32,
    events AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, operator, lag_days);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.reporting_lag_daily_mv_v1
TO {{database}}.reporting_lag_daily_v1
AS SELECT
    received_date AS day,
    operator,
    toInt32(toInt32(toUInt16(received_date)) - toInt32(toUInt16(occurrence_date))) AS lag_days,
    uniqState(event_id) AS events
FROM {{database}}.status_events_v1
GROUP BY day, operator, lag_days;

CREATE TABLE IF NOT EXISTS {{database}}.reporting_lag_hourly_v1
(
    hour DateTime('UTC'),
    operator String,
    lag_days Int32,
    events AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, operator, lag_days);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.reporting_lag_hourly_mv_v1
TO {{database}}.reporting_lag_hourly_v1
AS SELECT
    toStartOfHour(received_at) AS hour,
    operator,
    toInt32(toInt32(toUInt16(received_date)) - toInt32(toUInt16(occurrence_date))) AS lag_days,
    uniqState(event_id) AS events
FROM {{database}}.status_events_v1
GROUP BY hour, operator, lag_days;
