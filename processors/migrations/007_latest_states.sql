-- Each number's latest state, for reads that need the present over every number (the conflicts
-- list): the state-change history holds every version of every number, this table keeps the
-- newest per number once ClickHouse has merged it (ReplacingMergeTree by version; not partitioned,
-- so versions from different months replace each other). Until a merge, older versions are still
-- there: readers take argMax(…, version) per number, which is right either way, and read about
-- one row per number instead of one per change. Fed by a materialised view from state_changes_v1.

CREATE TABLE IF NOT EXISTS {{database}}.latest_states_v1
(
    msisdn String,
    version UInt64,
    operator Nullable(String),
    lifecycle_status String,
    conflict_codes Array(String),
    conflict_since Array(Date)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY msisdn;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.latest_states_mv_v1
TO {{database}}.latest_states_v1
AS SELECT msisdn, version, operator, lifecycle_status, conflict_codes, conflict_since
FROM {{database}}.state_changes_v1;
