import type { ClickHouseClient } from '@clickhouse/client';
import {
  createClickHouse,
  createDatabase,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  quoteIdentifier,
  topicNames,
} from '@hub/infra';
import { resumeDuration } from '@hub/processors/history/metrics';
import { migrate } from '@hub/processors/history/migrate';
import { HistorySink } from '@hub/processors/history/sink';
import { KafkaDeadLetters } from '@hub/processors/kafka/index';
import { statsQueries } from '@hub/query-api/dashboard/queries';
import { conflictsCountQuery, conflictsPageQuery } from '@hub/query-api/identity/sql';
import { EventCodec } from '@hub/schemas';
import type { ConflictCode } from '@hub/state';
import { sqlInteger, sqlString } from '@hub/state/history/queries';
import { LATEST_CONFLICTS_TABLE, LATEST_STATES_TABLE, RAW_TABLES } from '@hub/state/history/tables';
import { benchConfig, createTopics, dropBenchData } from './env.ts';
import type { Row } from './table.ts';

export interface HistoryReadsOptions {
  /** State-change rows generated inside ClickHouse. */
  stateChanges: number;
  /** Conflicts pages read (each a page query and a count query side by side, as the route does). */
  pages: number;
  /** How long to let background merges settle before reading. */
  settleMs: number;
}

export interface HistoryReadsRaw {
  stateChanges: number;
  numbers: number;
  generateSeconds: number;
  settledSeconds: number;
  parts: Record<string, { parts: number; rows: number }>;
  conflicted: { now: number; fullScanNow: number; firstPageMatches: boolean };
  /** As ClickHouse's own merges left the latest-state tables, before the sink's OPTIMIZE. */
  conflictsPageUnmerged: Latency;
  unmergedParts: Record<string, { parts: number; rows: number }>;
  conflictsPage: Latency;
  conflictsPageFullScan: Latency;
  dashboardCounts: Latency;
  resume: { seconds: number[] };
  resumeFullScan: Latency;
}

interface Latency {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const STATE_CHANGES_PER_NUMBER = 4;
const PAGE = 50;
const CODES: readonly ConflictCode[] = ['STALE_LINKAGE', 'MULTIPLE_ACTIVE_NIN'];

/**
 * The request-path and assignment-path reads over a large state-change history, which must not
 * scan it: the conflicts page (page and count queries side by side, as the route runs them), the
 * dashboard's lifecycle and conflict counts, and the history sink's resume on assignment. The
 * history is generated inside ClickHouse (INSERT … SELECT from system.numbers, through the same
 * views the sink's inserts go through): each number changes state STATE_CHANGES_PER_NUMBER times
 * over two years of received dates, about 6% of numbers have a conflict for a few versions, and
 * some of those clear before the last. The old full-scan queries are timed on the same data.
 */
export async function benchHistoryReads(
  o: HistoryReadsOptions,
): Promise<{ rows: Row[]; raw: HistoryReadsRaw }> {
  const config = benchConfig('history');
  await createTopics(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const redis = createRedis(config);
  const admin = createClickHouse(config, { requestTimeoutMs: 900_000 });
  const reader = createClickHouse(config, { read: true });
  const db = config.CLICKHOUSE_DATABASE;
  try {
    await createDatabase(config);
    await migrate(admin, db);
    const numbers = Math.max(1, Math.floor(o.stateChanges / STATE_CHANGES_PER_NUMBER));

    let started = performance.now();
    await admin.command({
      query: generateStateChanges(db, topics.stateChanges, config.KAFKA_PARTITIONS, o.stateChanges, numbers),
      clickhouse_settings: {
        max_block_size: '1000000',
        min_insert_block_size_rows: '1000000',
        min_insert_block_size_bytes: '0',
      },
    });
    const generateSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await settle(admin, db, o.settleMs);
    const settledSeconds = (performance.now() - started) / 1000;
    const unmergedParts = await partCounts(admin, db);

    // The answer the full scan gives, to check the fast reads against.
    const fullScan = fullScanConflicted(db);
    const fullScanNow = await scalar(admin, `SELECT count() FROM (${fullScan})`);
    const fullFirst = await column(admin, `SELECT msisdn FROM (${fullScan}) ORDER BY msisdn LIMIT ${PAGE}`);
    const now = await scalar(reader, conflictsCountQuery(db, null));
    const first = await column(reader, `SELECT msisdn FROM (${conflictsPageQuery(db, null, 0, PAGE)})`);
    const firstPageMatches = first.length > 0 && first.join() === fullFirst.join();

    const readPages = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const code = i % 4 === 3 ? CODES[i % CODES.length]! : null;
        const skip = Math.floor(Math.random() * Math.max(1, (code === null ? now : now / 2) - PAGE));
        const t = performance.now();
        await Promise.all([
          drain(reader, conflictsPageQuery(db, code, skip, PAGE)),
          drain(reader, conflictsCountQuery(db, code)),
        ]);
        times.push(performance.now() - t);
      }
      return times;
    };
    const unmergedPages = await readPages(Math.max(20, Math.floor(o.pages / 4)));
    // What the history sink does after inserting state changes (at most once a minute).
    for (const table of [LATEST_CONFLICTS_TABLE, LATEST_STATES_TABLE]) {
      await admin.command({ query: `OPTIMIZE TABLE ${quoteIdentifier(db)}.${table}` });
    }
    const parts = await partCounts(admin, db);
    const pages = await readPages(o.pages);
    const oldPages: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await Promise.all([
        drain(admin, `SELECT * FROM (${fullScan}) ORDER BY msisdn LIMIT ${sqlInteger(PAGE)}`),
        drain(admin, `SELECT count() FROM (${fullScan})`),
      ]);
      oldPages.push(performance.now() - t);
    }

    const dashboard: number[] = [];
    const stats = statsQueries(db, null);
    for (let i = 0; i < Math.max(5, Math.floor(o.pages / 10)); i++) {
      const t = performance.now();
      await Promise.all([drain(reader, stats.numbersByLifecycle), drain(reader, stats.conflictsByCode)]);
      dashboard.push(performance.now() - t);
    }

    const resume = await timeResumes(config, topics, 3);
    const oldResume: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await drain(
        admin,
        `SELECT kafka_partition, max(kafka_offset), count() FROM ${quoteIdentifier(db)}.${RAW_TABLES['state-change']}
WHERE kafka_topic = ${sqlString(topics.stateChanges)} GROUP BY kafka_partition`,
      );
      oldResume.push(performance.now() - t);
    }

    const raw: HistoryReadsRaw = {
      stateChanges: o.stateChanges,
      numbers,
      generateSeconds,
      settledSeconds,
      parts,
      conflicted: { now, fullScanNow, firstPageMatches },
      conflictsPageUnmerged: latency(unmergedPages),
      unmergedParts,
      conflictsPage: latency(pages),
      conflictsPageFullScan: latency(oldPages),
      dashboardCounts: latency(dashboard),
      resume: { seconds: resume },
      resumeFullScan: latency(oldResume),
    };
    return { rows: historyRows(raw), raw };
  } finally {
    await reader.close();
    await admin.close();
    await dropBenchData(config, redis).catch((err: Error) =>
      console.error(`bench: cleaning up ${config.CLICKHOUSE_DATABASE} failed: ${err.message}`),
    );
    await redis.quit();
  }
}

/**
 * `rows` state changes of `numbers` numbers: row i is version ⌊i / numbers⌋ + 1 of number
 * i mod numbers, received 6.3 s after row i − 1 (two years in all at 10 M rows), on partition
 * i mod P at offset ⌊i / P⌋ of the state-change topic. About 6% of numbers are conflicted from a
 * version s to s + len − 1 (s, len in 1..4): some still are at their last version, some cleared.
 */
export function generateStateChanges(
  database: string,
  topic: string,
  partitions: number,
  rows: number,
  numbers: number,
): string {
  const db = quoteIdentifier(database);
  const n = sqlInteger(numbers);
  const p = sqlInteger(partitions);
  const received = 'toDateTime(1672531200 + intDiv(number * 63, 10))';
  return `INSERT INTO ${db}.${RAW_TABLES['state-change']} (event_id, source, kafka_topic, kafka_partition, kafka_offset, msisdn, version, operator, telecom_status, status_date, reassignment_date, last_swapped_date, last_churned_date, last_reassigned_date, lifecycle_status, is_recycled, active_nin_linkages, active_bvn_linkages, cleanup_status, can_assign_to_new_user, conflict_codes, conflict_since, cause_topic, cause_event_id, occurred_at, received_at, occurred_date, received_date)
SELECT
  concat('bench-sc-', toString(number)),
  'BENCH',
  ${sqlString(topic)},
  toUInt32(number % ${p}),
  intDiv(number, ${p}),
  toString(2348030000000 + n),
  w,
  'MTN',
  'NORMAL',
  toDate(received_at),
  CAST(NULL AS Nullable(Date)),
  CAST(NULL AS Nullable(Date)),
  CAST(NULL AS Nullable(Date)),
  CAST(NULL AS Nullable(Date)),
  conflicted ? 'CONFLICTED' : ['ACTIVE', 'ACTIVE', 'ACTIVE', 'RECYCLED', 'BLOCKED', 'AVAILABLE'][intHash32(n) % 6 + 1],
  0,
  1,
  0,
  'not_required',
  conflicted ? 0 : 1,
  conflicted ? (intHash32(n) % 2 = 0 ? ['STALE_LINKAGE'] : ['STALE_LINKAGE', 'MULTIPLE_ACTIVE_NIN']) : emptyArrayString(),
  conflicted ? (intHash32(n) % 2 = 0 ? [toDate(received_at)] : [toDate(received_at), toDate(received_at)]) : CAST([] AS Array(Date)),
  'bench.status-updates',
  concat('bench-su-', toString(number)),
  received_at - 3600,
  received_at,
  toDate(received_at - 3600),
  toDate(received_at)
FROM (
  SELECT number, number % ${n} AS n, intDiv(number, ${n}) + 1 AS w, ${received} AS received_at,
    intHash32(n) % 100 < 6 AND w >= 1 + intHash32(n + 7) % 4 AND w < 1 + intHash32(n + 7) % 4 + 1 + intHash32(n + 13) % 4 AS conflicted
  FROM system.numbers
  LIMIT ${sqlInteger(rows)}
)`;
}

/** The conflicts list as it was read before the latest-state tables: over every state change. */
function fullScanConflicted(database: string): string {
  return `SELECT msisdn, argMax(lifecycle_status, version) AS lifecycle_status,
    argMax(conflict_codes, version) AS conflict_codes
  FROM ${quoteIdentifier(database)}.${RAW_TABLES['state-change']}
  GROUP BY msisdn
  HAVING notEmpty(conflict_codes)`;
}

/** Waits until no merge runs in the database (or `ms` passed): the reads then see the parts as merged in the background. */
async function settle(client: ClickHouseClient, database: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const running = await scalar(
      client,
      `SELECT count() FROM system.merges WHERE database = ${sqlString(database)}`,
    );
    if (running === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function partCounts(client: ClickHouseClient, database: string) {
  const result = await client.query({
    query: `SELECT table, count() AS parts, sum(rows) AS rows FROM system.parts
WHERE active AND database = ${sqlString(database)} AND table IN (${[RAW_TABLES['state-change'], LATEST_STATES_TABLE, LATEST_CONFLICTS_TABLE].map(sqlString).join(', ')})
GROUP BY table`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ table: string; parts: string; rows: string }>();
  return Object.fromEntries(rows.map((r) => [r.table, { parts: Number(r.parts), rows: Number(r.rows) }]));
}

/**
 * Starts and stops a history sink on the benchmark's topics `times` times; each start joins the
 * group, and the assignment reads the resume points of every partition of every history topic
 * (the state-change topic's from the ten million generated rows). Returns each resume's seconds.
 */
async function timeResumes(
  config: ReturnType<typeof benchConfig>,
  topics: ReturnType<typeof topicNames>,
  times: number,
): Promise<number[]> {
  const kafka = createKafka(config);
  const producer = createProducer(kafka);
  await producer.connect();
  const clickhouse = createClickHouse(config);
  const codec = new EventCodec(createSchemaRegistry(config));
  const seconds: number[] = [];
  try {
    for (let i = 0; i < times; i++) {
      const before = await resumeTotals();
      const sink = new HistorySink({
        kafka,
        clickhouse,
        database: config.CLICKHOUSE_DATABASE,
        codec,
        topics,
        groupId: `${config.TOPIC_PREFIX}history-sink`,
        deadLetters: new KafkaDeadLetters(producer, codec),
        log: () => {},
      });
      await sink.start();
      const deadline = Date.now() + 60_000;
      let after = await resumeTotals();
      while (after.count === before.count) {
        if (Date.now() > deadline) throw new Error('the sink was not assigned its partitions in 60 s');
        await new Promise((r) => setTimeout(r, 50));
        after = await resumeTotals();
      }
      seconds.push((after.sum - before.sum) / (after.count - before.count));
      await sink.stop();
    }
  } finally {
    await producer.disconnect();
    await clickhouse.close();
  }
  return seconds;
}

async function resumeTotals(): Promise<{ sum: number; count: number }> {
  const values = (await resumeDuration.get()).values;
  const sum = values.find((v) => v.metricName === 'hub_history_resume_seconds_sum')?.value ?? 0;
  const count = values.find((v) => v.metricName === 'hub_history_resume_seconds_count')?.value ?? 0;
  return { sum, count };
}

async function drain(client: ClickHouseClient, query: string): Promise<void> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  await result.json();
}

async function scalar(client: ClickHouseClient, query: string): Promise<number> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  const rows = await result.json<Record<string, string | number>>();
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

async function column(client: ClickHouseClient, query: string): Promise<string[]> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  return (await result.json<{ msisdn: string }>()).map((r) => r.msisdn);
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { samples: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] ?? 0 };
}

const fmt = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(1)} ms`;

function historyRows(r: HistoryReadsRaw): Row[] {
  const scale = `${fmt(r.stateChanges)} state changes, ${fmt(r.numbers)} numbers`;
  const correct = r.conflicted.now === r.conflicted.fullScanNow && r.conflicted.firstPageMatches;
  const resumeMax = Math.max(...r.resume.seconds);
  const partsOf = (t: string) => r.parts[t] ?? { parts: 0, rows: 0 };
  return [
    {
      benchmark: `conflicts page (${scale})`,
      figure: `p99 ${ms(r.conflictsPage.p99Ms)}`,
      detail: `p50 ${ms(r.conflictsPage.p50Ms)}, ${r.conflictsPage.samples} pages of ${PAGE} (page and count queries side by side, a quarter filtered by code) after the sink's OPTIMIZE; ${fmt(r.conflicted.now)} numbers conflicted now, ${correct ? 'same as' : 'NOT the same as'} the full scan; ${latestDetail(partsOf(LATEST_CONFLICTS_TABLE))} in ${LATEST_CONFLICTS_TABLE}`,
      target: 'p99 ≤ 200 ms',
      met: r.conflictsPage.p99Ms <= 200 && correct,
    },
    {
      benchmark: '  same, before the sink merges the latest-state tables',
      figure: `p99 ${ms(r.conflictsPageUnmerged.p99Ms)}`,
      detail: `p50 ${ms(r.conflictsPageUnmerged.p50Ms)} over ${r.conflictsPageUnmerged.samples} pages; ${latestDetail(r.unmergedParts[LATEST_CONFLICTS_TABLE] ?? { parts: 0, rows: 0 })} in ${LATEST_CONFLICTS_TABLE} as ClickHouse's own merges left it`,
    },
    {
      benchmark: '  before: conflicts page over every state change',
      figure: `p50 ${ms(r.conflictsPageFullScan.p50Ms)}`,
      detail: `max ${ms(r.conflictsPageFullScan.maxMs)} over ${r.conflictsPageFullScan.samples} pages; argMax by version over ${fmt(partsOf(RAW_TABLES['state-change']).rows)} rows`,
    },
    {
      benchmark: `dashboard lifecycle and conflict counts (${scale})`,
      figure: `p99 ${ms(r.dashboardCounts.p99Ms)}`,
      detail: `p50 ${ms(r.dashboardCounts.p50Ms)} over ${r.dashboardCounts.samples}; lifecycle counts read ${LATEST_STATES_TABLE} FINAL (${latestDetail(partsOf(LATEST_STATES_TABLE))})`,
    },
    {
      benchmark: `history sink resume on assignment (${scale})`,
      figure: `max ${ms(resumeMax * 1000)}`,
      detail: `${r.resume.seconds.map((s) => ms(s * 1000)).join(', ')} over ${r.resume.seconds.length} starts: watermarks of every partition of every history topic, and Kafka's low offsets`,
      target: '≤ 1 s',
      met: resumeMax <= 1,
    },
    {
      benchmark: '  before: max(kafka_offset) from the raw table',
      figure: `p50 ${ms(r.resumeFullScan.p50Ms)}`,
      detail: `the state-change topic's partitions alone, over ${fmt(partsOf(RAW_TABLES['state-change']).rows)} rows`,
    },
    {
      benchmark: '  generating the history',
      figure: `${fmt(Math.round(r.stateChanges / r.generateSeconds))} rows/s`,
      detail: `INSERT … SELECT through every view of ${RAW_TABLES['state-change']} in ${r.generateSeconds.toFixed(1)} s; merges settled ${r.settledSeconds.toFixed(1)} s; raw table ${partsOf(RAW_TABLES['state-change']).parts} parts`,
    },
  ];
}

function latestDetail(p: { parts: number; rows: number }): string {
  return `${fmt(p.rows)} rows in ${p.parts} parts`;
}
