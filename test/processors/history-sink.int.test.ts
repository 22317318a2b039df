import { spawnSync } from 'node:child_process';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createProducer,
  createSchemaRegistry,
  quoteIdentifier,
  repoRoot,
  topicNames,
} from '@hub/infra';
import { EventCodec, type EventKind, type EventTypes } from '@hub/schemas';
import {
  DERIVED_TABLES,
  LATEST_CONFLICTS_TABLE,
  LATEST_STATES_TABLE,
  RAW_TABLES,
  ROLLUP_TABLES,
  SINK_WATERMARKS_TABLE,
  TOKEN_INDEX_TABLES,
} from '@hub/state/history/tables';
import type { Kafka, Producer } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertRows } from '../../processors/src/history/metrics.ts';
import { loadMigrations, migrate, renderStatements } from '../../processors/src/history/migrate.ts';
import { rebuildRollups } from '../../processors/src/history/rebuild-rollups.ts';
import { HistorySink } from '../../processors/src/history/sink.ts';
import { KafkaDeadLetters } from '../../processors/src/kafka/index.ts';
import { statsQueries } from '../../query-api/src/dashboard/queries.ts';
import { conflictsCountQuery, conflictsPageQuery } from '../../query-api/src/identity/sql.ts';
import { createTestTopics, testConfig, uniqueId } from '../support/stack.ts';

type Kind = Exclude<EventKind, 'dead-letter'>;

const TOPIC_OF: Record<Kind, keyof ReturnType<typeof topicNames>> = {
  'status-update': 'statusUpdates',
  'nin-linkage': 'ninLinkages',
  'bvn-linkage': 'bvnLinkages',
  delink: 'delink',
  verification: 'verifications',
  'state-change': 'stateChanges',
  audit: 'audit',
  'recycled-sim': 'recycledSims',
};

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 20, 9, 0, 0);
const STATUSES = ['NORMAL', 'CHURNED', 'SWAPPED', 'BLACKLISTED', 'REASSIGNED'] as const;
const OPERATORS = ['MTN', 'AIRTEL', 'GLO'] as const;

const msisdnOf = (i: number) => `234803${String(1_000_000 + i).slice(-7)}`;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** One event of `kind`, the i-th of its run, with a deterministic id and times. */
function makeEvent<K extends Kind>(kind: K, i: number, run: string): EventTypes[K] {
  const occurredAt = T0 + (i % 40) * 3_600_000;
  const base = {
    eventId: `${run}-${kind}-${i}`,
    source: 'GENERATOR',
    occurredAt,
    receivedAt: occurredAt + (i % 3) * DAY,
  };
  const msisdn = msisdnOf(i);
  const events: { [P in Kind]: EventTypes[P] } = {
    'status-update': {
      ...base,
      operator: OPERATORS[i % OPERATORS.length]!,
      msisdn,
      status: STATUSES[i % STATUSES.length]!,
      occurrenceDate: dateOf(occurredAt),
      reassignmentDate: i % 5 === 4 ? dateOf(occurredAt) : null,
      remarks: i % 7 === 0 ? "operator's note \\ with ' quotes" : null,
      batchId: null,
    },
    'nin-linkage': {
      ...base,
      msisdn,
      action: i % 4 === 0 ? 'UNLINK' : 'LINK',
      ninToken: `nin${i.toString(16).padStart(13, '0')}`,
      ninMasked: '*******1234',
      linkDate: dateOf(occurredAt - 400 * DAY),
    },
    'bvn-linkage': {
      ...base,
      msisdn,
      action: 'LINK',
      bvnToken: `bvn${i.toString(16).padStart(13, '0')}`,
      bvnMasked: '*******5678',
      holderNinToken: i % 2 ? null : `nin${i.toString(16).padStart(13, '0')}`,
      nubanToken: null,
      nubanMasked: null,
      bankCode: i % 2 ? null : '058',
      linkDate: dateOf(occurredAt - 300 * DAY),
    },
    delink: {
      ...base,
      requestId: `req-${i}`,
      msisdn,
      action: 'REQUESTED',
      scope: 'ALL',
      actor: 'admin@hub',
      reason: null,
    },
    verification: {
      ...base,
      requestId: `v-${i}`,
      organisation: i % 2 ? 'bank-a' : 'bank-b',
      msisdn,
      channel: 'SINGLE',
      verificationStatus: i % 9 === 0 ? 'FAILED' : 'VERIFIED',
      telecomStatus: i % 3 === 0 ? null : 'NORMAL',
      lifecycleStatus: i % 3 === 0 ? null : 'ACTIVE',
    },
    'state-change': {
      ...base,
      msisdn,
      version: i + 1,
      operator: 'MTN',
      telecomStatus: 'CHURNED',
      statusDate: dateOf(occurredAt),
      reassignmentDate: null,
      lastSwappedDate: null,
      lastChurnedDate: dateOf(occurredAt),
      lastReassignedDate: null,
      lifecycleStatus: i % 2 ? 'RECYCLED' : 'CONFLICTED',
      isRecycled: true,
      activeNinLinkages: 2,
      activeBvnLinkages: 0,
      cleanupStatus: 'pending',
      canAssignToNewUser: false,
      conflicts:
        i % 2
          ? [{ code: 'STALE_LINKAGE', since: dateOf(occurredAt) }]
          : [
              { code: 'STALE_LINKAGE', since: dateOf(occurredAt) },
              { code: 'MULTIPLE_ACTIVE_NIN', since: dateOf(occurredAt - DAY) },
            ],
      causeTopic: 'status-updates',
      causeEventId: `${run}-status-update-${i}`,
    },
    'recycled-sim': {
      ...base,
      simId: `sim-${i}`,
      msisdn,
      action: i % 2 ? 'DETECTED' : 'REGISTERED',
      recycleDate: dateOf(occurredAt),
      operator: 'MTN',
      cleanupStatus: 'pending',
      linkages: [
        {
          kind: 'NIN',
          token: `nin${i.toString(16).padStart(13, '0')}`,
          masked: '*******1234',
          linkDate: dateOf(occurredAt - 400 * DAY),
        },
      ],
      actor: 'system:detector',
      reason: null,
    },
    audit: {
      ...base,
      actor: `user-${i % 4}`,
      organisation: null,
      action: 'delink.approve',
      target: msisdn,
      outcome: 'SUCCESS',
      details: '{"note":"-- not a comment; \'quoted\'"}',
      requestId: null,
      ip: '127.0.0.1',
    },
  };
  return events[kind] as EventTypes[K];
}

interface Harness {
  config: Config;
  kafka: Kafka;
  producer: Producer;
  codec: EventCodec;
  clickhouse: ClickHouseClient;
  db: string;
  groupId: string;
  sinks: HistorySink[];
}

let h: Harness;

beforeEach(async () => {
  const config = testConfig('hist', { KAFKA_PARTITIONS: '3' });
  await createDatabase(config);
  const clickhouse = createClickHouse(config);
  await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  const kafka = await createTestTopics(config);
  const producer = createProducer(kafka);
  await producer.connect();
  const codec = new EventCodec(createSchemaRegistry(config));
  const names = topicNames(config.TOPIC_PREFIX);
  for (const [kind, key] of Object.entries(TOPIC_OF) as [Kind, keyof typeof names][]) {
    await codec.register(kind, names[key] as string);
  }
  h = {
    config,
    kafka,
    producer,
    codec,
    clickhouse,
    db: quoteIdentifier(config.CLICKHOUSE_DATABASE),
    groupId: `${config.TOPIC_PREFIX}history-sink`,
    sinks: [],
  };
});

afterEach(async () => {
  for (const s of h.sinks) await s.stop();
  await h.producer.disconnect();
  await h.clickhouse.command({ query: `DROP DATABASE IF EXISTS ${h.db}` }).catch(() => undefined);
  await h.clickhouse.close();
});

async function startSink(
  overrides: Partial<ConstructorParameters<typeof HistorySink>[0]> = {},
): Promise<HistorySink> {
  const sink = new HistorySink({
    kafka: h.kafka,
    clickhouse: h.clickhouse,
    database: h.config.CLICKHOUSE_DATABASE,
    codec: h.codec,
    topics: topicNames(h.config.TOPIC_PREFIX),
    groupId: h.groupId,
    deadLetters: new KafkaDeadLetters(h.producer, h.codec),
    log: process.env.HISTORY_TEST_LOG === '1' ? undefined : () => {},
    ...overrides,
  });
  h.sinks.push(sink);
  await sink.start();
  return sink;
}

async function stopSink(sink: HistorySink): Promise<void> {
  await sink.stop();
  h.sinks = h.sinks.filter((s) => s !== sink);
}

async function produce<K extends Kind>(kind: K, events: EventTypes[K][]): Promise<void> {
  const topic = topicNames(h.config.TOPIC_PREFIX)[TOPIC_OF[kind]] as string;
  for (let i = 0; i < events.length; i += 5000) {
    await h.producer.send({
      topic,
      messages: events.slice(i, i + 5000).map((e) => ({
        key: kind === 'audit' ? (e as EventTypes['audit']).actor : (e as { msisdn: string }).msisdn,
        value: h.codec.encode(kind, e),
      })),
    });
  }
}

async function scalar(query: string): Promise<number> {
  const result = await h.clickhouse.query({ query, format: 'JSONEachRow' });
  const rows = await result.json<Record<string, string | number>>();
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

const rowCount = (table: string) => scalar(`SELECT count() FROM ${h.db}.${table}`);

async function waitForRows(table: string, expected: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = await rowCount(table).catch(() => -1);
    if (seen >= expected) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${table} has ${seen} rows after ${timeoutMs} ms, expected ${expected}`);
}

/** Every count the dashboards could show: raw rows, distinct events, and each rollup's merged totals. */
async function snapshot(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of Object.values(RAW_TABLES)) {
    out[`${table}.rows`] = await rowCount(table);
    out[`${table}.events`] = await scalar(`SELECT uniqExact(event_id) FROM ${h.db}.${table}`);
  }
  for (const table of Object.values(ROLLUP_TABLES)) {
    out[`${table}.events`] = await scalar(
      `SELECT sum(n) FROM (SELECT uniqMerge(events) AS n FROM ${h.db}.${table} GROUP BY ${
        table.endsWith('daily_v1') ? 'day' : 'hour'
      }, ${table.startsWith('reporting_lag') ? 'operator, lag_days' : table.startsWith('conflicts') ? 'code' : table.startsWith('state_changes') ? 'lifecycle_status' : table.startsWith('verifications') ? 'organisation, verification_status, number_status' : table.startsWith('delink_events') ? 'action' : 'operator, status'})`,
    );
  }
  return out;
}

/**
 * The snapshot once every rollup counts `n` events of its kind (conflicts: n + n/2, see makeEvent),
 * or the last one read after 20 s. ClickHouse shows an insert's raw rows before its materialised
 * views' rows, so raw counts alone do not say the rollups are in.
 */
async function rollupsAt(n: number): Promise<Record<string, number>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const snap = await snapshot();
    const done = Object.values(ROLLUP_TABLES).every(
      (table) => snap[`${table}.events`] === (table.startsWith('conflicts') ? n + n / 2 : n),
    );
    if (done || Date.now() > deadline) return snap;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const N = 120;
const ALL_KINDS = Object.keys(TOPIC_OF) as Kind[];

async function produceAll(run: string, n = N): Promise<void> {
  for (const kind of ALL_KINDS) {
    await produce(
      kind,
      Array.from({ length: n }, (_, i) => makeEvent(kind, i, run)),
    );
  }
}

async function waitForAll(n = N): Promise<void> {
  for (const kind of ALL_KINDS) await waitForRows(RAW_TABLES[kind], n);
}

describe('history migrations', () => {
  it('fill the token indexes from linkage rows stored before them, and through their views after', async () => {
    const db = `${h.config.CLICKHOUSE_DATABASE}_idx`;
    await createDatabase(h.config, db);
    const q = quoteIdentifier(db);
    const nin = (id: string, token: string) =>
      `INSERT INTO ${q}.nin_linkage_events_v1 (event_id, source, kafka_topic, kafka_partition, kafka_offset, msisdn, action, nin_token, nin_masked, link_date, occurred_at, received_at, occurred_date, received_date) VALUES ('${id}', 'T', 't', 0, 1, '2348031234567', 'LINK', '${token}', '*******1234', '2024-01-01', '2024-01-01 00:00:00', '2024-01-02 00:00:00', '2024-01-01', '2024-01-02')`;
    const bvn = (id: string, nuban: string | null) =>
      `INSERT INTO ${q}.bvn_linkage_events_v1 (event_id, source, kafka_topic, kafka_partition, kafka_offset, msisdn, action, bvn_token, bvn_masked, holder_nin_token, nuban_token, nuban_masked, bank_code, link_date, occurred_at, received_at, occurred_date, received_date) VALUES ('${id}', 'T', 't', 0, 1, '2348031234567', 'LINK', 'bbbb000000000001', '*******5678', NULL, ${nuban === null ? 'NULL' : `'${nuban}'`}, NULL, '058', '2024-01-01', '2024-01-01 00:00:00', '2024-01-02 00:00:00', '2024-01-01', '2024-01-02')`;
    try {
      await migrate(
        h.clickhouse,
        db,
        loadMigrations().filter((m) => m.version < 6),
      );
      await h.clickhouse.command({ query: nin('before', 'aaaa000000000001') });
      await h.clickhouse.command({ query: bvn('before-1', 'cccc000000000001') });
      await h.clickhouse.command({ query: bvn('before-2', null) });
      await migrate(h.clickhouse, db);
      await h.clickhouse.command({ query: nin('after', 'aaaa000000000002') });
      await h.clickhouse.command({ query: bvn('after', 'cccc000000000002') });
      const tokens = async (table: string, column: string) => {
        const result = await h.clickhouse.query({
          query: `SELECT ${column} AS token FROM ${q}.${table} ORDER BY token`,
          format: 'JSONEachRow',
        });
        return (await result.json<{ token: string }>()).map((r) => r.token);
      };
      expect(await tokens(TOKEN_INDEX_TABLES.nin, 'nin_token')).toEqual([
        'aaaa000000000001',
        'aaaa000000000002',
      ]);
      expect(await tokens(TOKEN_INDEX_TABLES.bvn, 'event_id')).toEqual(['after', 'before-1', 'before-2']);
      // Only linkages that name an account reach the NUBAN index.
      expect(await tokens(TOKEN_INDEX_TABLES.nuban, 'nuban_token')).toEqual([
        'cccc000000000001',
        'cccc000000000002',
      ]);
    } finally {
      await h.clickhouse.command({ query: `DROP DATABASE IF EXISTS ${q}` });
    }
  });

  it('apply concurrently from two processes and record each version once', async () => {
    const db = `${h.config.CLICKHOUSE_DATABASE}_m`;
    await createDatabase(h.config, db);
    const other = createClickHouse(h.config);
    try {
      const migrations = loadMigrations();
      const [a, b] = await Promise.all([migrate(h.clickhouse, db), migrate(other, db)]);
      expect(a.applied.length + a.alreadyApplied.length).toBe(migrations.length);
      expect(b.applied.length + b.alreadyApplied.length).toBe(migrations.length);
      expect(await scalar(`SELECT uniqExact(version) FROM ${db}.schema_migrations`)).toBe(migrations.length);
      // Every table and view the files create, and the migrations record.
      const creates = migrations
        .flatMap((m) => renderStatements(m, db))
        .filter((s) => s.startsWith('CREATE'));
      expect(await scalar(`SELECT count() FROM system.tables WHERE database = '${db}'`)).toBe(
        1 + creates.length,
      );
      // The raw tables, each derived table and its view, the watermark table and a view per raw table of 008.
      expect(creates.length).toBeGreaterThanOrEqual(
        Object.keys(RAW_TABLES).length + 2 * DERIVED_TABLES.length + 1,
      );
      const again = await migrate(h.clickhouse, db);
      expect(again.applied).toEqual([]);
    } finally {
      await h.clickhouse.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      await other.close();
    }
  });
});

describe('history sink', () => {
  it('writes every topic to its table with provenance, and the rollups count each event once', async () => {
    const run = uniqueId();
    await startSink();
    await produceAll(run);
    // An operator resends event 0: same event id, new offset.
    await produce('status-update', [makeEvent('status-update', 0, run)]);
    await waitForAll();
    await waitForRows(RAW_TABLES['status-update'], N + 1);

    const snap = await rollupsAt(N);
    for (const kind of ALL_KINDS) {
      expect(snap[`${RAW_TABLES[kind]}.events`], kind).toBe(N);
    }
    expect(snap['status_events_v1.rows']).toBe(N + 1);
    expect(snap['status_events_daily_v1.events']).toBe(N);
    expect(snap['status_events_hourly_v1.events']).toBe(N);
    expect(snap['reporting_lag_daily_v1.events']).toBe(N);
    expect(snap['verifications_daily_v1.events']).toBe(N);
    expect(snap['state_changes_hourly_v1.events']).toBe(N);
    // Every state change has STALE_LINKAGE; the even ones also MULTIPLE_ACTIVE_NIN.
    expect(snap['conflicts_daily_v1.events']).toBe(N + N / 2);

    // Provenance: offsets per partition are exactly 0..k-1 (nothing missing, nothing twice).
    const gaps = await scalar(
      `SELECT count() FROM (SELECT kafka_partition, count() AS c, max(kafka_offset) AS m, uniqExact(kafka_offset) AS u
       FROM ${h.db}.nin_linkage_events_v1 GROUP BY kafka_partition HAVING c != m + 1 OR u != c)`,
    );
    expect(gaps).toBe(0);
    // Quotes and backslashes in values survive JSONEachRow.
    expect(
      await scalar(
        `SELECT count() FROM ${h.db}.status_events_v1 WHERE remarks = 'operator\\'s note \\\\ with \\' quotes'`,
      ),
    ).toBeGreaterThan(0);

    // Reporting lag: receivedAt − occurredAt is (i % 3) days.
    const lagSum = await scalar(
      `SELECT sum(lag_days * n) FROM (SELECT lag_days, uniqMerge(events) AS n FROM ${h.db}.reporting_lag_daily_v1 GROUP BY lag_days)`,
    );
    expect(lagSum).toBe(Array.from({ length: N }, (_, i) => i % 3).reduce((a, b) => a + b, 0));
  });

  it('changes no count and no rollup when its consumer group is reset and the topics replayed', async () => {
    const run = uniqueId();
    const first = await startSink();
    await produceAll(run);
    await waitForAll();
    const before = await rollupsAt(N);
    await stopSink(first);

    const admin = h.kafka.admin();
    await admin.connect();
    // Deleting the group drops its committed offsets: the next member starts from the beginning.
    await admin.deleteGroups([h.groupId]);
    const groups = await admin.listGroups();
    await admin.disconnect();
    expect(groups.groups.map((g) => g.groupId)).not.toContain(h.groupId);

    await startSink();
    // New events after the replay point prove the sink has caught up past the old ones.
    await produceAll(`${run}-late`, 6);
    await waitForAll(N + 6);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await snapshot();
    for (const [key, value] of Object.entries(before)) {
      const added = key.startsWith('conflicts') ? 9 : 6;
      expect(after[key], key).toBe(value + added);
    }

    // Rebuilding the rollups from the raw tables gives the same totals.
    await rebuildRollups(h.clickhouse, h.config.CLICKHOUSE_DATABASE);
    expect(await snapshot()).toEqual(after);
  });

  it('dead-letters an event ClickHouse cannot store and keeps going', async () => {
    const run = uniqueId();
    await startSink();
    const bad = { ...makeEvent('nin-linkage', 0, run), linkDate: '1961-10-01' };
    await produce('nin-linkage', [bad, makeEvent('nin-linkage', 1, run)]);
    await waitForRows(RAW_TABLES['nin-linkage'], 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await rowCount(RAW_TABLES['nin-linkage'])).toBe(1);
    const dlq = topicNames(h.config.TOPIC_PREFIX).deadLetters.ninLinkages;
    const offsets = await (async () => {
      const admin = h.kafka.admin();
      await admin.connect();
      try {
        return await admin.fetchTopicOffsets(dlq);
      } finally {
        await admin.disconnect();
      }
    })();
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
  });

  it.runIf(process.env.HUB_FAULT_TESTS === '1')(
    'delivers every row exactly once when ClickHouse stops for 20 s mid-stream',
    async () => {
      const run = uniqueId();
      await startSink({ retry: { initialDelayMs: 100, maxDelayMs: 2000, giveUpAfterMs: 8000 } });
      const total = 30_000;
      const events = Array.from({ length: total }, (_, i) => makeEvent('status-update', i, run));
      await produce('status-update', events.slice(0, total / 3));
      await waitForRows(RAW_TABLES['status-update'], 1000);
      cli('stop', 'clickhouse');
      await produce('status-update', events.slice(total / 3));
      await new Promise((r) => setTimeout(r, 20_000));
      cli('up', 'clickhouse');
      await waitForRows(RAW_TABLES['status-update'], total, 120_000);
      await new Promise((r) => setTimeout(r, 2000));
      expect(await rowCount(RAW_TABLES['status-update'])).toBe(total);
      expect(await scalar(`SELECT uniqExact(event_id) FROM ${h.db}.status_events_v1`)).toBe(total);
      const duplicated = await scalar(
        `SELECT count() FROM (SELECT kafka_partition, kafka_offset FROM ${h.db}.status_events_v1
         GROUP BY kafka_partition, kafka_offset HAVING count() > 1)`,
      );
      expect(duplicated).toBe(0);
    },
    240_000,
  );

  it.runIf(process.env.HUB_BENCH === '1')(
    'measures rows per second through the sink on 200k events',
    async () => {
      const run = uniqueId();
      const total = 200_000;
      const events = Array.from({ length: total }, (_, i) => makeEvent('status-update', i, run));
      await produce('status-update', events);
      const started = Date.now();
      await startSink();
      await waitForRows(RAW_TABLES['status-update'], total, 300_000);
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `history sink: ${total} rows in ${seconds.toFixed(1)} s = ${Math.round(total / seconds)} rows/s\n`,
      );
      expect(await rowCount(RAW_TABLES['status-update'])).toBe(total);
    },
    400_000,
  );
});

/** The local stack's own stop/start of one service (shared with other tests: hence opt-in). */
function cli(...args: string[]): void {
  const result = spawnSync('npx', ['tsx', 'infra/local/cli.ts', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`cli ${args.join(' ')} failed: ${result.stderr}`);
}

/** Inserts the sink has made into `table` in this process so far. */
async function insertsInto(table: string): Promise<number> {
  const values = (await insertRows.get()).values;
  return (
    values.find((v) => v.metricName === 'hub_history_insert_rows_count' && v.labels.table === table)?.value ??
    0
  );
}

/** Rows a query read in ClickHouse (FORMAT JSON's statistics), and its rows. */
async function readStats(query: string): Promise<{ rowsRead: number; data: Record<string, unknown>[] }> {
  const result = await h.clickhouse.query({ query, format: 'JSON' });
  const body = await result.json<Record<string, unknown>>();
  const statistics = (body as unknown as { statistics: { rows_read: number } }).statistics;
  return { rowsRead: Number(statistics.rows_read), data: body.data as Record<string, unknown>[] };
}

/** A state change of `msisdn` at `version`, with the given conflicts. */
function stateChange(
  run: string,
  msisdn: string,
  version: number,
  codes: string[],
): EventTypes['state-change'] {
  const base = makeEvent('state-change', version, run);
  return {
    ...base,
    eventId: `${run}-sc-${msisdn}-${version}`,
    msisdn,
    version,
    lifecycleStatus: codes.length > 0 ? 'CONFLICTED' : 'ACTIVE',
    conflicts: codes.map((code) => ({ code, since: '2024-05-20' })),
  };
}

describe('history sink resume points and latest states', () => {
  it('inserts a batch whose rows span many received months in one insert', async () => {
    const run = uniqueId();
    // One number, so one partition; received months alternate, so no two neighbours share one.
    const events = Array.from({ length: 48 }, (_, i) => ({
      ...makeEvent('status-update', 0, run),
      eventId: `${run}-months-${i}`,
      receivedAt: Date.UTC(2024, i % 6, 15, 12),
    }));
    await produce('status-update', events);
    const before = await insertsInto(RAW_TABLES['status-update']);
    await startSink();
    await waitForRows(RAW_TABLES['status-update'], events.length);
    // The rows can be visible a moment before the sink has seen its insert answered.
    await expect.poll(() => insertsInto(RAW_TABLES['status-update'])).toBeGreaterThan(before);
    const inserts = (await insertsInto(RAW_TABLES['status-update'])) - before;
    // One insert per received month would be 48 here.
    expect(inserts).toBeLessThanOrEqual(3);
    expect(
      await scalar(`SELECT uniqExact(toYYYYMM(received_date)) FROM ${h.db}.${RAW_TABLES['status-update']}`),
    ).toBe(6);
    const watermark = await scalar(
      `SELECT max(max_offset) FROM ${h.db}.${SINK_WATERMARKS_TABLE} WHERE raw_table = '${RAW_TABLES['status-update']}'`,
    );
    expect(watermark).toBe(
      await scalar(`SELECT max(kafka_offset) FROM ${h.db}.${RAW_TABLES['status-update']}`),
    );
  });

  it('resumes after the watermarks, without reading the raw tables', async () => {
    const run = uniqueId();
    const first = await startSink();
    await produce(
      'status-update',
      Array.from({ length: 30 }, (_, i) => makeEvent('status-update', i, run)),
    );
    await waitForRows(RAW_TABLES['status-update'], 30);
    await stopSink(first);
    // The raw rows go, the watermarks stay: a sink that resumed from the raw table would find
    // nothing stored and insert all 30 again.
    await h.clickhouse.command({ query: `TRUNCATE TABLE ${h.db}.${RAW_TABLES['status-update']}` });
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([h.groupId]);
    await admin.disconnect();

    await startSink();
    await produce(
      'status-update',
      Array.from({ length: 5 }, (_, i) => makeEvent('status-update', 100 + i, `${run}-late`)),
    );
    await waitForRows(RAW_TABLES['status-update'], 5);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rowCount(RAW_TABLES['status-update'])).toBe(5);
    expect(
      await scalar(
        `SELECT countIf(event_id LIKE '${run}-late-%') FROM ${h.db}.${RAW_TABLES['status-update']}`,
      ),
    ).toBe(5);
  });

  it('never shows a row twice in a count, even when the watermarks are lost and everything is inserted again', async () => {
    const run = uniqueId();
    const first = await startSink();
    await produceAll(run);
    await waitForAll();
    await rollupsAt(N);
    const db = h.config.CLICKHOUSE_DATABASE;
    const reads = async () => ({
      snapshot: await snapshot(),
      conflicts: await scalar(conflictsCountQuery(db, null)),
      stale: await scalar(conflictsCountQuery(db, 'STALE_LINKAGE')),
      lifecycle: (await readStats(statsQueries(db, null).numbersByLifecycle)).data,
      codes: (await readStats(statsQueries(db, null).conflictsByCode)).data,
    });
    const before = await reads();
    await stopSink(first);
    await h.clickhouse.command({ query: `TRUNCATE TABLE ${h.db}.${SINK_WATERMARKS_TABLE}` });
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([h.groupId]);
    await admin.disconnect();

    // A raw table without a watermark view (added after migration 008) resumes from its own rows.
    const views = new Set(
      (
        await readStats(
          `SELECT name FROM system.tables WHERE database = '${db}' AND name LIKE 'watermark_of_%'`,
        )
      ).data.map((r) => String(r.name)),
    );
    const stored = (kind: Kind) => (views.has(`watermark_of_${RAW_TABLES[kind]}`) ? 2 * N : N);
    expect(views.has(`watermark_of_${RAW_TABLES['state-change']}`)).toBe(true);

    await startSink();
    for (const kind of ALL_KINDS) await waitForRows(RAW_TABLES[kind], stored(kind));
    await new Promise((r) => setTimeout(r, 1000));
    const after = await reads();
    for (const kind of ALL_KINDS) {
      expect(after.snapshot[`${RAW_TABLES[kind]}.rows`], kind).toBe(stored(kind));
      expect(after.snapshot[`${RAW_TABLES[kind]}.events`], kind).toBe(N);
    }
    for (const table of Object.values(ROLLUP_TABLES)) {
      expect(after.snapshot[`${table}.events`], table).toBe(before.snapshot[`${table}.events`]);
    }
    expect(after.conflicts).toBe(before.conflicts);
    expect(after.stale).toBe(before.stale);
    expect(after.lifecycle).toEqual(before.lifecycle);
    expect(after.codes).toEqual(before.codes);
  });

  it('keeps each number’s latest state, so a cleared conflict leaves the conflicts list', async () => {
    const run = uniqueId();
    await startSink();
    const numbers = {
      cleared: '2348039000001',
      conflicted: '2348039000002',
      never: '2348039000003',
      late: '2348039000004',
    };
    // First round: three numbers conflicted or not.
    await produce('state-change', [
      stateChange(run, numbers.cleared, 1, ['STALE_LINKAGE']),
      stateChange(run, numbers.conflicted, 1, ['MULTIPLE_ACTIVE_NIN']),
      stateChange(run, numbers.never, 1, []),
      stateChange(run, numbers.late, 1, []),
    ]);
    await waitForRows(RAW_TABLES['state-change'], 4);
    // Later rounds: one clears, one gains a conflict, and a number that never had one changes again.
    await produce('state-change', [
      stateChange(run, numbers.cleared, 2, []),
      stateChange(run, numbers.never, 2, []),
      stateChange(run, numbers.late, 2, ['BLACKLISTED_WITH_LINKAGES']),
    ]);
    await waitForRows(RAW_TABLES['state-change'], 7);
    const db = h.config.CLICKHOUSE_DATABASE;
    // An insert writes the raw table before its views: the latest-state rows may follow a moment later.
    await expect
      .poll(async () => (await readStats(conflictsPageQuery(db, null, 0, 50))).data.map((r) => r.msisdn))
      .toEqual([numbers.conflicted, numbers.late]);
    const page = await readStats(conflictsPageQuery(db, null, 0, 50));
    expect(page.data[1]).toMatchObject({ conflict_codes: ['BLACKLISTED_WITH_LINKAGES'] });
    expect(await scalar(conflictsCountQuery(db, 'MULTIPLE_ACTIVE_NIN'))).toBe(1);
    expect(await scalar(conflictsCountQuery(db, 'STALE_LINKAGE'))).toBe(0);
    // Only numbers that ever had a conflict are in the conflicts table, however many changes there are.
    expect(await scalar(`SELECT uniqExact(msisdn) FROM ${h.db}.${LATEST_CONFLICTS_TABLE}`)).toBe(3);
    expect(page.rowsRead).toBeLessThanOrEqual(await rowCount(LATEST_CONFLICTS_TABLE));

    const lifecycle = await readStats(statsQueries(db, null).numbersByLifecycle);
    expect(lifecycle.data).toEqual([
      { key: 'ACTIVE', value: '2' },
      { key: 'CONFLICTED', value: '2' },
    ]);
    expect(lifecycle.rowsRead).toBeLessThanOrEqual(await rowCount(LATEST_STATES_TABLE));
  });

  it('has the latest-state tables merged after it inserts state changes', async () => {
    const run = uniqueId();
    await startSink({ compactEveryMs: 1 });
    const parts = (table: string) =>
      scalar(
        `SELECT count() FROM system.parts WHERE active AND database = '${h.config.CLICKHOUSE_DATABASE}' AND table = '${table}'`,
      );
    for (let round = 1; round <= 3; round++) {
      await produce('state-change', [
        stateChange(run, '2348039100001', round, round % 2 ? ['STALE_LINKAGE'] : []),
        stateChange(run, '2348039100002', round, ['MULTIPLE_ACTIVE_NIN']),
      ]);
      await waitForRows(RAW_TABLES['state-change'], 2 * round);
    }
    // Each round's insert made a part in each table; the sink's OPTIMIZE merges them into one.
    await expect.poll(() => parts(LATEST_STATES_TABLE), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => parts(LATEST_CONFLICTS_TABLE), { timeout: 20_000 }).toBe(1);
    expect(await rowCount(LATEST_CONFLICTS_TABLE)).toBe(2);
    expect(await rowCount(LATEST_STATES_TABLE)).toBe(2);
  });

  it('reads far fewer rows for the conflicts list and the counts than the history holds', async () => {
    // Ten versions of each of 2,000 numbers, straight into the raw table (its views fill the
    // latest-state tables, as the sink's inserts do); 1 number in 20 conflicted at its last version.
    const db = h.config.CLICKHOUSE_DATABASE;
    await h.clickhouse.command({
      query: `INSERT INTO ${h.db}.${RAW_TABLES['state-change']} (event_id, source, kafka_topic, kafka_partition, kafka_offset, msisdn, version, lifecycle_status, is_recycled, active_nin_linkages, active_bvn_linkages, cleanup_status, can_assign_to_new_user, conflict_codes, conflict_since, cause_topic, cause_event_id, occurred_at, received_at, occurred_date, received_date)
SELECT concat('gen-', toString(number)), 'T', 't', 0, number, toString(2348030000000 + number % 2000), intDiv(number, 2000) + 1,
  (number % 2000) % 20 = 0 AND intDiv(number, 2000) = 9 ? 'CONFLICTED' : 'ACTIVE', 0, 0, 0, 'x', 0,
  (number % 2000) % 20 = 0 AND intDiv(number, 2000) = 9 ? ['STALE_LINKAGE'] : emptyArrayString(),
  CAST([] AS Array(Date)), 'c', 'c', toDateTime('2024-01-01 00:00:00'), toDateTime('2024-01-01 00:00:00'), toDate('2024-01-01'), toDate('2024-01-01')
FROM system.numbers LIMIT 20000`,
    });
    await h.clickhouse.command({ query: `OPTIMIZE TABLE ${h.db}.${LATEST_STATES_TABLE} FINAL` });
    const page = await readStats(conflictsPageQuery(db, null, 0, 50));
    const count = await readStats(conflictsCountQuery(db, null));
    expect(page.data).toHaveLength(50);
    expect(Number(count.data[0]?.total)).toBe(100);
    // The full scan read every one of the 20,000 state changes.
    expect(page.rowsRead).toBeLessThanOrEqual(200);
    expect(count.rowsRead).toBeLessThanOrEqual(200);
    const lifecycle = await readStats(statsQueries(db, null).numbersByLifecycle);
    expect(lifecycle.data).toEqual([
      { key: 'ACTIVE', value: '1900' },
      { key: 'CONFLICTED', value: '100' },
    ]);
    expect(lifecycle.rowsRead).toBeLessThanOrEqual(2000);
    expect((await readStats(statsQueries(db, null).conflictsByCode)).rowsRead).toBeLessThanOrEqual(200);
  });
});
