import type { EventKind } from '@hub/schemas';

/** Event families the history sink records: every topic's kind except dead letters. */
export type HistoryKind = Exclude<EventKind, 'dead-letter'>;

/**
 * The raw table of each event family. A table that must change shape gets a new version (…_v2)
 * through a new migration; the sink and the queries switch here.
 */
export const RAW_TABLES = {
  'status-update': 'status_events_v1',
  'nin-linkage': 'nin_linkage_events_v1',
  'bvn-linkage': 'bvn_linkage_events_v1',
  delink: 'delink_events_v2',
  verification: 'verifications_v2',
  'state-change': 'state_changes_v1',
  audit: 'audit_events_v1',
  'recycled-sim': 'recycled_sim_events_v1',
} as const satisfies Record<HistoryKind, string>;

export type RawTable = (typeof RAW_TABLES)[HistoryKind];

export const HISTORY_KINDS = Object.keys(RAW_TABLES) as HistoryKind[];

/** Dashboard rollups (AggregatingMergeTree), each fed by a materialised view named `<table minus _v1>_mv_v1`. */
export const ROLLUP_TABLES = {
  statusEventsDaily: 'status_events_daily_v1',
  statusEventsHourly: 'status_events_hourly_v1',
  stateChangesDaily: 'state_changes_daily_v1',
  stateChangesHourly: 'state_changes_hourly_v1',
  conflictsDaily: 'conflicts_daily_v1',
  conflictsHourly: 'conflicts_hourly_v1',
  verificationsDaily: 'verifications_daily_v1',
  verificationsHourly: 'verifications_hourly_v1',
  reportingLagDaily: 'reporting_lag_daily_v1',
  reportingLagHourly: 'reporting_lag_hourly_v1',
  delinkEventsDaily: 'delink_events_daily_v1',
  delinkEventsHourly: 'delink_events_hourly_v1',
} as const;

export type RollupTable = (typeof ROLLUP_TABLES)[keyof typeof ROLLUP_TABLES];

/**
 * Link and unlink events ordered by identifier token, for lookups by NIN, BVN or NUBAN; each fed
 * by a materialised view from its raw linkage table (migration 006) and refilled with the rollups.
 */
export const TOKEN_INDEX_TABLES = {
  nin: 'nin_links_by_token_v1',
  bvn: 'bvn_links_by_token_v1',
  nuban: 'nuban_links_by_token_v1',
} as const;

/**
 * Each number's newest state (ReplacingMergeTree by version, migration 007), fed from the state
 * changes: reads over every number's present (the dashboard's lifecycle counts) read about one
 * row per number instead of every state change. Readers dedupe by number (FINAL, or argMax by
 * version), so rows not merged yet never show twice.
 */
export const LATEST_STATES_TABLE = 'latest_states_v1';

/**
 * The latest state of each number that has ever had a conflict (migration 009; columns latest_*),
 * including a newer state without conflicts once they clear: the conflicts list and conflict counts
 * read the numbers that ever had one, not every number. Read with argMax(…, latest_version).
 */
export const LATEST_CONFLICTS_TABLE = 'latest_conflicts_v1';

/**
 * The history sink's resume points (migration 008): the highest stored Kafka offset per raw table,
 * topic and partition, written by each raw table's insert through a materialised view. Not derived data to
 * rebuild: the sink's record of what ClickHouse holds.
 */
export const SINK_WATERMARKS_TABLE = 'sink_watermarks_v1';

/**
 * The materialised view that moves `raw`'s watermarks with each insert into it. A raw table added
 * later gets one in the migration that creates it; until then the sink reads that table's resume
 * points from the table itself (a scan of it).
 */
export function watermarkViewOf(raw: string): string {
  return `watermark_of_${raw}`;
}

/** The raw verification table before v2 added the customer reference (migration 016): kept, no longer written. */
export const LEGACY_VERIFICATIONS_TABLE = 'verifications_v1';

/**
 * What each organisation verified or looked up for each of its customers (migration 016), ordered
 * by (organisation, customer): Okra's "by customer". Read one row per event_id.
 */
export const CUSTOMER_VERIFICATIONS_TABLE = 'customer_verifications_v1';

/**
 * One row per identity (NIN token) with its record id and first-seen time (migration 016;
 * AggregatingMergeTree: read anyMerge(nin_masked), minMerge(first_seen) grouped by record_id).
 */
export const IDENTITY_RECORDS_TABLE = 'identity_records_v1';

/** Every table derived from raw tables by a materialised view: what rebuild-rollups.ts refills. */
export const DERIVED_TABLES: readonly string[] = [
  ...Object.values(ROLLUP_TABLES),
  ...Object.values(TOKEN_INDEX_TABLES),
  LATEST_STATES_TABLE,
  LATEST_CONFLICTS_TABLE,
  CUSTOMER_VERIFICATIONS_TABLE,
  IDENTITY_RECORDS_TABLE,
];
