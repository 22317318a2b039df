-- The latest state of every number that has ever had a conflict, for the conflicts list and the
-- dashboard's conflict counts: latest_states_v1 holds every number, so reading the conflicted ones
-- from it still reads one row per number; this table holds only numbers that had a conflict at
-- some version. Fed from state_changes_v1 by a view that, per insert, takes each number's newest
-- state in the insert and keeps it when the number had a conflict in the insert or already has a
-- row here: so a number that leaves conflict gets a row without conflicts, which replaces its
-- conflicted one (ReplacingMergeTree by version; not partitioned, so versions replace each other
-- across months). Until a merge older versions are still there: readers take argMax(…,
-- latest_version) per number. The columns are named latest_* so that in the view's HAVING,
-- conflict_codes is the inserted column, not the view's own output.
-- The view reads this table's msisdn column on each insert of state changes: its cost grows with
-- the numbers that have ever had a conflict, not with all numbers or all state changes.
-- The migration runner fills it from the state changes stored before it (one GROUP BY over all).

CREATE TABLE IF NOT EXISTS {{database}}.latest_conflicts_v1
(
    msisdn String,
    latest_version UInt64,
    latest_operator Nullable(String),
    latest_lifecycle_status String,
    latest_conflict_codes Array(String),
    latest_conflict_since Array(Date)
)
ENGINE = ReplacingMergeTree(latest_version)
ORDER BY msisdn;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.latest_conflicts_mv_v1
TO {{database}}.latest_conflicts_v1
AS SELECT
    msisdn,
    max(version) AS latest_version,
    argMax(operator, version) AS latest_operator,
    argMax(lifecycle_status, version) AS latest_lifecycle_status,
    argMax(conflict_codes, version) AS latest_conflict_codes,
    argMax(conflict_since, version) AS latest_conflict_since
FROM {{database}}.state_changes_v1
GROUP BY msisdn
HAVING countIf(notEmpty(conflict_codes)) > 0 OR msisdn IN (SELECT msisdn FROM {{database}}.latest_conflicts_v1);
