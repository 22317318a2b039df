-- Rollups are AggregatingMergeTree tables fed by materialised views. Counts are uniq(event_id)
-- states, so an event an operator resent (same event_id, new row) never counts twice; uniq is exact
-- up to 65,536 distinct ids per rollup row and within about 2% above that, with a bounded state
-- size (uniqExact would keep every id of every day). Read them with uniqMerge(...) and GROUP BY.
-- A materialised view only sees rows inserted after it exists: rebuild-rollups.ts refills a rollup
-- from its raw table.
-- Status events per operator x telecom status, by the day/hour the status occurred (UTC).

CREATE TABLE IF NOT EXISTS {{database}}.status_events_daily_v1
(
    day Date,
    operator String,
    status Enum8('NORMAL' = 1, 'CHURNED' = 2, 'SWAPPED' = 3, 'BLACKLISTED' = 4, 'REASSIGNED' = 5),
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, operator, status);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.status_events_daily_mv_v1
TO {{database}}.status_events_daily_v1
AS SELECT
    occurred_date AS day,
    operator,
    status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.status_events_v1
GROUP BY day, operator, status;

CREATE TABLE IF NOT EXISTS {{database}}.status_events_hourly_v1
(
    hour DateTime('UTC'),
    operator String,
    status Enum8('NORMAL' = 1, 'CHURNED' = 2, 'SWAPPED' = 3, 'BLACKLISTED' = 4, 'REASSIGNED' = 5),
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, operator, status);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.status_events_hourly_mv_v1
TO {{database}}.status_events_hourly_v1
AS SELECT
    toStartOfHour(occurred_at) AS hour,
    operator,
    status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.status_events_v1
GROUP BY hour, operator, status;
