import { checkDate, normaliseMsisdn } from '@hub/schemas';
import { type HistoryKind, RAW_TABLES, ROLLUP_TABLES, type RollupTable } from './tables.ts';

/**
 * SQL for the dashboard and audit reads. ClickHouse 18.16 has no server-side query parameters, so
 * values reach SQL only through `sqlString`/`sqlDate`/`sqlDateTime`/`sqlInteger`, and identifiers
 * only from the whitelists below: a caller names a dataset, a dimension or a metric, never a column.
 */

export class QueryInputError extends Error {
  override readonly name = 'QueryInputError';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A ClickHouse single-quoted string literal. Backslash and quote are escaped, and every control
 * character (NUL, newlines, tab, DEL, …) becomes a \xHH escape, so the literal is one line of
 * printable text whatever the input; comment markers inside a literal are inert. Lone UTF-16
 * surrogates are refused: they cannot be sent as UTF-8 and would silently become U+FFFD.
 */
export function sqlString(value: string): string {
  if (typeof value !== 'string') throw new QueryInputError(`expected a string, got ${typeof value}`);
  if (LONE_SURROGATE.test(value)) throw new QueryInputError('string contains a lone UTF-16 surrogate');
  let out = "'";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/** A Date literal from YYYY-MM-DD, checked to be a real date in ClickHouse's range. */
export function sqlDate(value: string): string {
  const check = checkDate(value);
  if (!check.ok) throw new QueryInputError(`date ${check.reason}`);
  if (value < '1970-01-01' || value > '2105-12-31') {
    throw new QueryInputError(`date '${value}' is outside 1970-01-01..2105-12-31`);
  }
  return `toDate('${value}')`;
}

/** A UTC DateTime literal from epoch milliseconds (whole seconds kept). */
export function sqlDateTime(epochMs: number): string {
  if (!Number.isSafeInteger(epochMs) || epochMs < 0 || epochMs > Date.UTC(2105, 11, 31, 23, 59, 59)) {
    throw new QueryInputError(`time ${epochMs} is not epoch milliseconds between 1970 and 2105`);
  }
  const text = new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
  return `toDateTime('${text}', 'UTC')`;
}

/** A non-negative integer literal (limits, offsets, partitions). */
export function sqlInteger(value: number | bigint | string): string {
  const text = String(value);
  if (!/^\d{1,20}$/.test(text))
    throw new QueryInputError(`'${text.slice(0, 30)}' is not a non-negative integer`);
  if (BigInt(text) > 0xffff_ffff_ffff_ffffn) throw new QueryInputError(`${text} does not fit UInt64`);
  return text;
}

export type Granularity = 'day' | 'hour';

interface Dataset {
  daily: RollupTable;
  hourly: RollupTable;
  /** API name → rollup column. */
  dimensions: Readonly<Record<string, string>>;
  /** API name → aggregate over the rollup's states. */
  metrics: Readonly<Record<string, string>>;
}

const COUNT_METRICS = { events: 'uniqMerge(events)', numbers: 'uniqMerge(numbers)' } as const;

/** The whitelist: which rollups a dashboard may read, and which dimensions and metrics each offers. */
export const DATASETS = {
  statusEvents: {
    daily: ROLLUP_TABLES.statusEventsDaily,
    hourly: ROLLUP_TABLES.statusEventsHourly,
    dimensions: { operator: 'operator', status: 'status' },
    metrics: COUNT_METRICS,
  },
  stateChanges: {
    daily: ROLLUP_TABLES.stateChangesDaily,
    hourly: ROLLUP_TABLES.stateChangesHourly,
    dimensions: { lifecycleStatus: 'lifecycle_status' },
    metrics: COUNT_METRICS,
  },
  conflicts: {
    daily: ROLLUP_TABLES.conflictsDaily,
    hourly: ROLLUP_TABLES.conflictsHourly,
    dimensions: { code: 'code' },
    metrics: COUNT_METRICS,
  },
  verifications: {
    daily: ROLLUP_TABLES.verificationsDaily,
    hourly: ROLLUP_TABLES.verificationsHourly,
    dimensions: {
      organisation: 'organisation',
      verificationStatus: 'verification_status',
      telecomStatus: 'number_status',
    },
    metrics: COUNT_METRICS,
  },
  reportingLag: {
    daily: ROLLUP_TABLES.reportingLagDaily,
    hourly: ROLLUP_TABLES.reportingLagHourly,
    dimensions: { operator: 'operator' },
    // Over the (lag_days, n) histogram built in the inner query of `rollupQuery`.
    metrics: {
      events: 'sum(n)',
      lagDaysSum: 'sum(lag_days * n)',
      lagDaysAvg: 'sum(lag_days * n) / sum(n)',
      lagDaysMedian: 'quantileExactWeighted(0.5)(lag_days, n)',
      lagDaysP90: 'quantileExactWeighted(0.9)(lag_days, n)',
    },
  },
} as const satisfies Record<string, Dataset>;

export type DatasetName = keyof typeof DATASETS;
export type DimensionName<D extends DatasetName> = keyof (typeof DATASETS)[D]['dimensions'] & string;
export type MetricName<D extends DatasetName> = keyof (typeof DATASETS)[D]['metrics'] & string;

export interface RollupQuery<D extends DatasetName> {
  dataset: D;
  granularity: Granularity;
  /** Inclusive YYYY-MM-DD (UTC). */
  from: string;
  /** Inclusive YYYY-MM-DD (UTC). */
  to: string;
  groupBy?: readonly DimensionName<D>[];
  /** Dimension → allowed values (OR within a dimension, AND across dimensions). */
  filters?: Partial<Record<DimensionName<D>, readonly string[]>>;
  metrics: readonly MetricName<D>[];
}

function lookup(map: Readonly<Record<string, string>>, name: string, what: string, dataset: string): string {
  if (!Object.hasOwn(map, name)) {
    throw new QueryInputError(
      `unknown ${what} '${String(name).slice(0, 40)}' for ${dataset}; allowed: ${Object.keys(map).join(', ')}`,
    );
  }
  return map[name]!;
}

/**
 * SQL for a time series over a rollup: one row per bucket (`bucket`) and grouped dimension, with the
 * requested metrics, ordered by bucket. Names are checked against the whitelist, values escaped.
 */
export function rollupQuery<D extends DatasetName>(database: string, q: RollupQuery<D>): string {
  if (!Object.hasOwn(DATASETS, q.dataset)) {
    throw new QueryInputError(
      `unknown dataset '${String(q.dataset).slice(0, 40)}'; allowed: ${Object.keys(DATASETS).join(', ')}`,
    );
  }
  const dataset: Dataset = DATASETS[q.dataset];
  if (q.granularity !== 'day' && q.granularity !== 'hour') {
    throw new QueryInputError(
      `granularity must be 'day' or 'hour', got '${String(q.granularity).slice(0, 20)}'`,
    );
  }
  if (q.from > q.to) throw new QueryInputError(`from ${q.from} is after to ${q.to}`);
  if (q.metrics.length === 0) throw new QueryInputError('at least one metric is required');
  const table = `${identifier(database)}.${q.granularity === 'day' ? dataset.daily : dataset.hourly}`;
  const time = q.granularity === 'day' ? 'day' : 'hour';
  const range =
    q.granularity === 'day'
      ? `day BETWEEN ${sqlDate(q.from)} AND ${sqlDate(q.to)}`
      : `hour >= toDateTime(${sqlDate(q.from)}) AND hour < toDateTime(${sqlDate(q.to)} + 1)`;
  const groupCols = (q.groupBy ?? []).map((d) => ({
    name: d,
    column: lookup(dataset.dimensions, d, 'dimension', q.dataset),
  }));
  const where = [range];
  for (const [dim, values] of Object.entries(q.filters ?? {}) as [string, readonly string[] | undefined][]) {
    const column = lookup(dataset.dimensions, dim, 'dimension', q.dataset);
    if (!values || values.length === 0) throw new QueryInputError(`filter on ${dim} lists no values`);
    where.push(`${column} IN (${values.map(sqlString).join(', ')})`);
  }
  const metrics = q.metrics.map((m) => `${lookup(dataset.metrics, m, 'metric', q.dataset)} AS ${m}`);
  const outer = [`${time} AS bucket`, ...groupCols.map((g) => `${g.column} AS ${g.name}`)];
  const groupList = [time, ...groupCols.map((g) => g.column)];
  if (q.dataset === 'reportingLag') {
    // Merge the uniq states per lag value first; the histogram then gives sums and quantiles.
    return `SELECT ${[...outer, ...metrics].join(', ')}
FROM (SELECT ${[...groupList, 'lag_days', 'uniqMerge(events) AS n'].join(', ')} FROM ${table}
  WHERE ${where.join(' AND ')} GROUP BY ${[...groupList, 'lag_days'].join(', ')})
GROUP BY ${groupList.join(', ')}
ORDER BY ${groupList.join(', ')}`;
  }
  return `SELECT ${[...outer, ...metrics].join(', ')}
FROM ${table}
WHERE ${where.join(' AND ')}
GROUP BY ${groupList.join(', ')}
ORDER BY ${groupList.join(', ')}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A database name (from config, never from a request) as an identifier. */
function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new QueryInputError(`'${name.slice(0, 40)}' is not a plain identifier`);
  return name;
}

/**
 * The events of one number in one raw table, oldest first. An operator may resend an event (same
 * event_id, new Kafka offset), so rows are deduplicated by event id, keeping the first arrival.
 */
export function numberHistoryQuery(
  database: string,
  kind: HistoryKind,
  msisdn: string,
  limit = 1000,
): string {
  if (!Object.hasOwn(RAW_TABLES, kind)) throw new QueryInputError(`unknown event kind '${String(kind)}'`);
  if (kind === 'audit') throw new QueryInputError('audit events are keyed by actor, not by number');
  const check = normaliseMsisdn(msisdn);
  if (!check.ok) throw new QueryInputError(`msisdn ${check.reason}`);
  return `SELECT * FROM ${identifier(database)}.${RAW_TABLES[kind]}
WHERE msisdn = ${sqlString(check.msisdn)}
ORDER BY occurred_at, kafka_topic, kafka_partition, kafka_offset
LIMIT 1 BY event_id
LIMIT ${sqlInteger(limit)}`;
}

/** Distinct events per raw table in a received-date range: the count a duplicate can never inflate. */
export function distinctEventsQuery(database: string, kind: HistoryKind, from: string, to: string): string {
  if (!Object.hasOwn(RAW_TABLES, kind)) throw new QueryInputError(`unknown event kind '${String(kind)}'`);
  return `SELECT uniqExact(event_id) AS events FROM ${identifier(database)}.${RAW_TABLES[kind]}
WHERE received_date BETWEEN ${sqlDate(from)} AND ${sqlDate(to)}`;
}
