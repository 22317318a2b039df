import type { FieldError } from '@hub/ingest';
import { QueryInputError, sqlDate, sqlDateTime, sqlString } from '@hub/state/history/queries';
import {
  LATEST_CONFLICTS_TABLE,
  LATEST_STATES_TABLE,
  ROLLUP_TABLES,
  type RollupTable,
} from '@hub/state/history/tables';

/**
 * SQL for the dashboards, built only from whitelisted names: a caller picks a metric, a dimension
 * and a granularity from the tables below, never a column or table, and every value goes through
 * the one escaping module (processors/src/history/queries.ts).
 */

export const METRICS = [
  'status_events',
  'state_changes',
  'conflicts',
  'verifications',
  'reporting_lag',
  'delink_events',
] as const;
export type Metric = (typeof METRICS)[number];
export const DIMENSIONS = [
  'operator',
  'status',
  'lifecycle_status',
  'conflict_code',
  'organisation',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

interface MetricSource {
  daily: RollupTable;
  hourly: RollupTable;
  /** Dimension → rollup column; a dimension absent here does not apply to the metric. */
  dimensions: Partial<Record<Dimension, string>>;
}

/** The whitelist: the rollup each metric reads and the dimensions it can be split by. */
export const METRIC_SOURCES: Readonly<Record<Metric, MetricSource>> = {
  status_events: {
    daily: ROLLUP_TABLES.statusEventsDaily,
    hourly: ROLLUP_TABLES.statusEventsHourly,
    dimensions: { operator: 'operator', status: 'status' },
  },
  state_changes: {
    daily: ROLLUP_TABLES.stateChangesDaily,
    hourly: ROLLUP_TABLES.stateChangesHourly,
    dimensions: { lifecycle_status: 'lifecycle_status' },
  },
  conflicts: {
    daily: ROLLUP_TABLES.conflictsDaily,
    hourly: ROLLUP_TABLES.conflictsHourly,
    dimensions: { conflict_code: 'code' },
  },
  verifications: {
    daily: ROLLUP_TABLES.verificationsDaily,
    hourly: ROLLUP_TABLES.verificationsHourly,
    dimensions: { organisation: 'organisation', status: 'verification_status' },
  },
  reporting_lag: {
    daily: ROLLUP_TABLES.reportingLagDaily,
    hourly: ROLLUP_TABLES.reportingLagHourly,
    dimensions: { operator: 'operator' },
  },
  // Delink workflow steps; status = the step (REQUESTED, APPROVED, COMPLETED, FAILED, …).
  delink_events: {
    daily: ROLLUP_TABLES.delinkEventsDaily,
    hourly: ROLLUP_TABLES.delinkEventsHourly,
    dimensions: { status: 'action' },
  },
};

/** Longest period per granularity: an hourly series longer than this is not a chart anyone reads. */
export const MAX_PERIOD_DAYS: Readonly<Record<Granularity, number>> = {
  hour: 31,
  day: 1096,
  week: 3660,
  month: 3660,
};
export const DEFAULT_PERIOD_DAYS = 30;

const DAY_MS = 86_400_000;
const dayMs = (date: string) => Date.parse(`${date}T00:00:00Z`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface Period {
  /** Inclusive YYYY-MM-DD (UTC). */
  from: string;
  /** Inclusive YYYY-MM-DD (UTC). */
  to: string;
}

export interface TrendParams extends Period {
  metric: Metric;
  granularity: Granularity;
  dimension: Dimension | null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/**
 * The dashboard's query string after the route's schema validated it: dates are YYYY-MM-DD within
 * the history's range and the names are members of their lists. What is left here are the rules
 * across parameters, which a schema of one parameter cannot state.
 */
export interface PeriodQuery {
  from?: string | undefined;
  to?: string | undefined;
}

export interface TrendQuery extends PeriodQuery {
  metric?: Metric | undefined;
  granularity?: Granularity | undefined;
  dimension?: Dimension | undefined;
}

/**
 * The period from `from`/`to`. Without both, `optional` decides: a trailing window ending today,
 * or (for stats) no period at all. A period that ends before it starts, or is longer than
 * `maxDays`, is an error naming the parameter.
 */
export function parsePeriod(
  query: PeriodQuery,
  today: string,
  errors: FieldError[],
  maxDays: number,
  optional = false,
): Period | null {
  const given = (v: string | undefined) => (v === undefined || v === '' ? null : v);
  let from = given(query.from);
  let to = given(query.to);
  if (optional && from === null && to === null) return null;
  to ??=
    from === null
      ? today
      : isoDay(Math.min(dayMs(from) + (DEFAULT_PERIOD_DAYS - 1) * DAY_MS, dayMs('2105-12-31')));
  from ??= isoDay(Math.max(0, dayMs(to) - (DEFAULT_PERIOD_DAYS - 1) * DAY_MS));
  if (from > to) {
    errors.push({ field: 'from', message: `must not be after to (${to}); got ${from}` });
    return null;
  }
  const days = (dayMs(to) - dayMs(from)) / DAY_MS + 1;
  if (days > maxDays) {
    errors.push({
      field: 'to',
      message: `the period from ${from} to ${to} is ${days} days; at most ${maxDays} at this granularity`,
    });
    return null;
  }
  return { from, to };
}

/** The trend parameters with their defaults; every problem is reported with the parameter it concerns. */
export function parseTrendParams(query: TrendQuery, today: string): Parsed<TrendParams> {
  const errors: FieldError[] = [];
  const metric = query.metric ?? 'status_events';
  const granularity = query.granularity ?? 'day';
  const dimension = query.dimension ?? null;
  if (dimension !== null && !Object.hasOwn(METRIC_SOURCES[metric].dimensions, dimension)) {
    errors.push({
      field: 'dimension',
      message: `${metric} can be split by ${Object.keys(METRIC_SOURCES[metric].dimensions).join(', ')}; not by ${dimension}`,
    });
  }
  const period = parsePeriod(query, today, errors, MAX_PERIOD_DAYS[granularity]);
  if (errors.length > 0 || period === null) return { ok: false, errors };
  return { ok: true, value: { metric, granularity, dimension, ...period } };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The database name comes from config, but is still checked before it is spliced in. */
function database(name: string): string {
  if (!IDENTIFIER.test(name)) throw new QueryInputError(`'${name.slice(0, 40)}' is not a plain identifier`);
  return name;
}

/** Rows are `bucket`, `key` (the dimension's value, '' without one), `value` and, for lag, `events`/`p50`/`p90`. */
export interface TrendScope {
  /** Only this organisation's verifications (a service provider's own volumes). */
  organisation?: string;
}

/**
 * One time series from the rollup the granularity picks: hourly table for hours, daily table for
 * days, weeks (starting Monday) and months. Counts merge the rollups' uniq(event_id) states, so a
 * resent event counts once however the buckets are grouped.
 */
export function trendQuery(db: string, p: TrendParams, scope: TrendScope = {}): string {
  const source = METRIC_SOURCES[p.metric];
  const hourly = p.granularity === 'hour';
  const table = `${database(db)}.${hourly ? source.hourly : source.daily}`;
  const bucket = { hour: 'hour', day: 'day', week: 'toMonday(day)', month: 'toStartOfMonth(day)' }[
    p.granularity
  ];
  const where = hourly
    ? [`hour >= ${sqlDateTime(dayMs(p.from))}`, `hour < ${sqlDateTime(dayMs(p.to) + DAY_MS)}`]
    : [`day >= ${sqlDate(p.from)}`, `day <= ${sqlDate(p.to)}`];
  if (scope.organisation !== undefined) {
    if (p.metric !== 'verifications')
      throw new QueryInputError('an organisation scope applies to verifications only');
    where.push(`organisation = ${sqlString(scope.organisation)}`);
  }
  const column = p.dimension === null ? null : source.dimensions[p.dimension];
  if (column === undefined) throw new QueryInputError(`${p.metric} cannot be split by ${p.dimension}`);
  const key = column === null ? "''" : `toString(${column})`;
  if (p.metric === 'reporting_lag') {
    return `SELECT toString(b) AS bucket, k AS key, sum(lag_days * n) / sum(n) AS value, sum(n) AS events,
  quantileExactWeighted(0.5)(lag_days, n) AS p50, quantileExactWeighted(0.9)(lag_days, n) AS p90
FROM (SELECT ${bucket} AS b, ${key} AS k, lag_days, uniqMerge(events) AS n FROM ${table}
  WHERE ${where.join(' AND ')} GROUP BY b, k, lag_days)
GROUP BY b, k
ORDER BY b, k`;
  }
  return `SELECT toString(b) AS bucket, k AS key, uniqMerge(events) AS value
FROM (SELECT ${bucket} AS b, ${key} AS k, events FROM ${table} WHERE ${where.join(' AND ')})
GROUP BY b, k
ORDER BY b, k`;
}

export interface StatsScope {
  /** Verification volumes of this organisation only (service providers). */
  organisation?: string;
  /** Verification volumes by status only, without naming organisations (operators). */
  hideOrganisations?: boolean;
}

/** The four aggregate queries of the stats page; each answers rows of `key`/`key2` and `value`. */
export function statsQueries(db: string, period: Period | null, scope: StatsScope = {}) {
  const d = database(db);
  const range = period === null ? [] : [`day >= ${sqlDate(period.from)}`, `day <= ${sqlDate(period.to)}`];
  const whereOf = (extra: string[]) => (extra.length === 0 ? '' : `WHERE ${extra.join(' AND ')}`);
  // Each number's current state is its newest row in the latest-state tables (FINAL keeps only
  // the newest of rows not merged yet): every number for the lifecycle counts, and for the conflict
  // counts only the numbers that have ever had a conflict.
  const lifecycle = `SELECT lifecycle_status AS key, count() AS value FROM ${d}.${LATEST_STATES_TABLE} FINAL GROUP BY key ORDER BY key`;
  const conflicts = `SELECT code AS key, count() AS value FROM ${d}.${LATEST_CONFLICTS_TABLE} FINAL ARRAY JOIN latest_conflict_codes AS code GROUP BY key ORDER BY key`;
  const verificationFilter =
    scope.organisation === undefined ? [] : [`organisation = ${sqlString(scope.organisation)}`];
  return {
    numbersByLifecycle: lifecycle,
    conflictsByCode: conflicts,
    statusEvents: `SELECT operator AS key, toString(status) AS key2, uniqMerge(events) AS value
FROM ${d}.${ROLLUP_TABLES.statusEventsDaily} ${whereOf(range)} GROUP BY key, key2 ORDER BY key, key2`,
    verifications: `SELECT ${scope.hideOrganisations ? "''" : 'organisation'} AS key, toString(verification_status) AS key2, uniqMerge(events) AS value
FROM ${d}.${ROLLUP_TABLES.verificationsDaily} ${whereOf([...range, ...verificationFilter])} GROUP BY key, key2 ORDER BY key, key2`,
  };
}
