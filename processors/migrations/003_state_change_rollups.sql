-- Rollups are AggregatingMergeTree tables fed by materialised views. Counts are uniq(event_id)
-- states, so an event an operator resent (same event_id, new row) never counts twice; uniq is exact
-- up to 65,536 distinct ids per rollup row and within about 2% above that, with a bounded state
-- size (uniqExact would keep every id of every day). Read them with uniqMerge(...) and GROUP BY.
-- A materialised view only sees rows inserted after it exists: rebuild-rollups.ts refills a rollup
-- from its raw table.
-- State changes per lifecycle status, and conflicts per code (one count per state change that
-- carries the conflict), by the day/hour of the change (UTC).

CREATE TABLE IF NOT EXISTS {{database}}.state_changes_daily_v1
(
    day Date,
    lifecycle_status String,
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, lifecycle_status);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.state_changes_daily_mv_v1
TO {{database}}.state_changes_daily_v1
AS SELECT
    occurred_date AS day,
    lifecycle_status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.state_changes_v1
GROUP BY day, lifecycle_status;

CREATE TABLE IF NOT EXISTS {{database}}.state_changes_hourly_v1
(
    hour DateTime('UTC'),
    lifecycle_status String,
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, lifecycle_status);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.state_changes_hourly_mv_v1
TO {{database}}.state_changes_hourly_v1
AS SELECT
    toStartOfHour(occurred_at) AS hour,
    lifecycle_status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.state_changes_v1
GROUP BY hour, lifecycle_status;

CREATE TABLE IF NOT EXISTS {{database}}.conflicts_daily_v1
(
    day Date,
    code String,
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, code);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.conflicts_daily_mv_v1
TO {{database}}.conflicts_daily_v1
AS SELECT
    occurred_date AS day,
    code,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.state_changes_v1
ARRAY JOIN conflict_codes AS code
GROUP BY day, code;

CREATE TABLE IF NOT EXISTS {{database}}.conflicts_hourly_v1
(
    hour DateTime('UTC'),
    code String,
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, code);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.conflicts_hourly_mv_v1
TO {{database}}.conflicts_hourly_v1
AS SELECT
    toStartOfHour(occurred_at) AS hour,
    code,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.state_changes_v1
ARRAY JOIN conflict_codes AS code
GROUP BY hour, code;
