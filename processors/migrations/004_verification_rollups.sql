-- Rollups are AggregatingMergeTree tables fed by materialised views. Counts are uniq(event_id)
-- states, so an event an operator resent (same event_id, new row) never counts twice; uniq is exact
-- up to 65,536 distinct ids per rollup row and within about 2% above that, with a bounded state
-- size (uniqExact would keep every id of every day). Read them with uniqMerge(...) and GROUP BY.
-- A materialised view only sees rows inserted after it exists: rebuild-rollups.ts refills a rollup
-- from its raw table.
-- Verification calls per organisation x result x telecom status of the number
-- (number_status; '' when it was unknown),
-- by the day/hour of the call (UTC).

CREATE TABLE IF NOT EXISTS {{database}}.verifications_daily_v1
(
    day Date,
    organisation String,
    verification_status Enum8('VERIFIED' = 1, 'FAILED' = 2),
    number_status String,
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, organisation, verification_status, number_status);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.verifications_daily_mv_v1
TO {{database}}.verifications_daily_v1
AS SELECT
    occurred_date AS day,
    organisation,
    verification_status,
    ifNull(telecom_status, '') AS number_status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.verifications_v1
GROUP BY day, organisation, verification_status, number_status;

CREATE TABLE IF NOT EXISTS {{database}}.verifications_hourly_v1
(
    hour DateTime('UTC'),
    organisation String,
    verification_status Enum8('VERIFIED' = 1, 'FAILED' = 2),
    number_status String,
    events AggregateFunction(uniq, String),
    numbers AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, organisation, verification_status, number_status);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.verifications_hourly_mv_v1
TO {{database}}.verifications_hourly_v1
AS SELECT
    toStartOfHour(occurred_at) AS hour,
    organisation,
    verification_status,
    ifNull(telecom_status, '') AS number_status,
    uniqState(event_id) AS events,
    uniqState(msisdn) AS numbers
FROM {{database}}.verifications_v1
GROUP BY hour, organisation, verification_status, number_status;
