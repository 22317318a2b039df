import type { ClickHouseClient } from '@clickhouse/client';
import {
  eventsOf,
  expectedState,
  generatePopulation,
  type Population,
  SAMPLE_EVENT_KINDS,
  type SampleEvent,
  sampleTopics,
  sendSampleEvents,
} from '@hub/dev-tools/sample/index';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createKafka,
  createProducer,
  createSchemaRegistry,
  quoteIdentifier,
  type TopicNames,
  topicNames,
} from '@hub/infra';
import { staticApiKeyAuthenticator } from '@hub/ingest';
import { EventCodec, type VerificationEvent } from '@hub/schemas';
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../processors/src/history/migrate.ts';
import { HistorySink } from '../../processors/src/history/sink.ts';
import { KafkaDeadLetters } from '../../processors/src/kafka/index.ts';
import { type RunningStateBuilder, runStateBuilder } from '../../processors/src/state-builder/runtime.ts';
import { waitForCatchUp } from '../../processors/src/state-builder/test-env.ts';
import { createApiApp } from '../../query-api/src/app.ts';
import { type ApiResources, createApiContext } from '../../query-api/src/bootstrap.ts';
import { createTestTopics, testPrincipal as principal, testConfig } from '../support/stack.ts';

const KEYS = {
  hub: { key: 'hub-dash-key', principal: principal('NCC', 'HUB') },
  mtn: { key: 'mtn-dash-key', principal: principal('MTN Nigeria', 'OPERATOR', 'MTN') },
  bankA: { key: 'bank-a-dash-key', principal: principal('Bank A', 'SERVICE_PROVIDER') },
  nimc: { key: 'nimc-dash-key', principal: principal('NIMC', 'IDENTITY_SOURCE') },
};

const START = '2023-01-01';
const END = '2024-12-31';

let config: Config;
let population: Population;
let clickhouse: ClickHouseClient;
let admin: Admin;
let producer: Producer;
let builder: RunningStateBuilder;
let sink: HistorySink;
let resources: ApiResources;
let app: ReturnType<typeof createApiApp>;

/** What the sample published, deduplicated by event id: the truth the dashboards must show. */
const truth = {
  statusEvents: new Map<string, { operator: string; status: string; day: string; lagDays: number }>(),
  statusDeliveries: 0,
};

const VERIFICATIONS: VerificationEvent[] = Array.from({ length: 11 }, (_, i) => ({
  eventId: `dash-verification-${i}`,
  source: 'API',
  requestId: `req-${i}`,
  organisation: i < 7 ? 'Bank A' : 'Bank B',
  msisdn: `23480311${String(10_000 + i)}`,
  channel: 'SINGLE' as const,
  verificationStatus: i % 4 === 3 ? ('FAILED' as const) : ('VERIFIED' as const),
  telecomStatus: i % 4 === 3 ? null : 'NORMAL',
  lifecycleStatus: i % 4 === 3 ? null : 'ACTIVE',
  occurredAt: Date.UTC(2024, 5, 3, 10, i),
  receivedAt: Date.UTC(2024, 5, 3, 10, i),
}));

/** Publishes sample events in their order, keyed by number, in batches. */
function send(codec: EventCodec, topics: TopicNames, events: SampleEvent[]): Promise<void> {
  return sendSampleEvents(producer, codec, topics, events);
}

async function scalar(query: string): Promise<number> {
  const result = await clickhouse.query({ query, format: 'JSONEachRow' });
  const rows = await result.json<Record<string, string | number>>();
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  config = testConfig('dash', { KAFKA_PARTITIONS: '2' });
  const kafka = await createTestTopics(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  await createDatabase(config);
  clickhouse = createClickHouse(config);
  await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  admin = kafka.admin();
  await admin.connect();

  population = generatePopulation({
    numbers: 1500,
    seed: 20240603,
    tokenSecret: config.TOKEN_SECRET,
    startDate: START,
    endDate: END,
  });
  for (const e of eventsOf(population)) {
    if (e.kind !== 'status-update') continue;
    truth.statusDeliveries++;
    const v = e.value;
    const receivedDay = new Date(v.receivedAt).toISOString().slice(0, 10);
    truth.statusEvents.set(v.eventId, {
      operator: v.operator,
      status: v.status,
      day: v.occurrenceDate,
      lagDays: (Date.parse(receivedDay) - Date.parse(v.occurrenceDate)) / 86_400_000,
    });
  }

  const builderGroup = `${config.TOPIC_PREFIX}state-builder`;
  builder = await runStateBuilder(config, {
    groupId: builderGroup,
    publishStateChanges: true,
    log: () => {},
  });
  producer = createProducer(createKafka(config));
  await producer.connect();
  const codec = new EventCodec(createSchemaRegistry(config));
  sink = new HistorySink({
    kafka: createKafka(config),
    clickhouse,
    database: config.CLICKHOUSE_DATABASE,
    codec,
    topics,
    groupId: `${config.TOPIC_PREFIX}history-sink`,
    deadLetters: new KafkaDeadLetters(producer, codec),
    maxWaitMs: 200,
    log: () => {},
  });
  await sink.start();

  // Topics are consumed independently, so a COMPLETED delink applied before the linkages it clears
  // would clear nothing: every other event is applied first, then the delinks.
  for (const kind of SAMPLE_EVENT_KINDS) await codec.register(kind, sampleTopics(topics)[kind]);
  const events = [...eventsOf(population)];
  await send(
    codec,
    topics,
    events.filter((e) => e.kind !== 'delink'),
  );
  await waitForCatchUp(admin, topics, builderGroup, 120_000);
  await send(
    codec,
    topics,
    events.filter((e) => e.kind === 'delink'),
  );
  await codec.register('verification', topics.verifications);
  // The last one is resent (same event id): it must count once.
  await producer.send({
    topic: topics.verifications,
    acks: -1,
    messages: [...VERIFICATIONS, VERIFICATIONS[0]!].map((v) => ({
      key: v.msisdn,
      value: codec.encode('verification', v),
    })),
  });
  await waitForCatchUp(admin, topics, builderGroup, 120_000);

  const db = quoteIdentifier(config.CLICKHOUSE_DATABASE);
  const stateChanges = (await admin.fetchTopicOffsets(topics.stateChanges)).reduce(
    (n, p) => n + Number(p.high),
    0,
  );
  await waitFor(
    'status events in ClickHouse',
    async () => (await scalar(`SELECT count() FROM ${db}.status_events_v1`)) >= truth.statusDeliveries,
  );
  await waitFor(
    'state changes in ClickHouse',
    async () => (await scalar(`SELECT count() FROM ${db}.state_changes_v1`)) >= stateChanges,
  );
  await waitFor(
    'verifications in ClickHouse',
    async () => (await scalar(`SELECT count() FROM ${db}.verifications_v2`)) >= VERIFICATIONS.length + 1,
  );

  resources = await createApiContext(config, {
    authenticate: staticApiKeyAuthenticator(Object.values(KEYS)),
  });
  app = createApiApp(resources.ctx, resources.probes);
}, 300_000);

afterAll(async () => {
  await resources?.close();
  await sink?.stop();
  await builder?.stop();
  await producer?.disconnect();
  await admin?.disconnect();
  await clickhouse
    ?.command({ query: `DROP DATABASE IF EXISTS ${quoteIdentifier(config.CLICKHOUSE_DATABASE)}` })
    .catch(() => undefined);
  await clickhouse?.close();
});

interface Count {
  key: string;
  key2?: string;
  value: number;
}
interface StatsJson {
  numbers_by_lifecycle_status?: Count[];
  conflicts_by_code?: Count[];
  status_events?: Count[];
  verifications: Count[];
}
interface TrendsJson {
  points: { bucket: string; key: string | null; value: number; events?: number }[];
  code?: string;
  errors?: { field: string }[];
}

async function get<T>(path: string, key = KEYS.hub.key): Promise<{ status: number; body: T }> {
  const res = await app.request(path, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as T };
}

const tally = <T>(items: Iterable<T>, keyOf: (t: T) => string) => {
  const out: Record<string, number> = {};
  for (const t of items) out[keyOf(t)] = (out[keyOf(t)] ?? 0) + 1;
  return out;
};
const asRecord = (rows: Count[]) =>
  Object.fromEntries(rows.map((r) => [r.key2 === undefined ? r.key : `${r.key}/${r.key2}`, r.value]));

describe('GET /api/v1/dashboard/stats over a sample flowed through the pipeline', () => {
  it('counts status events per operator and status exactly as the sample published them, duplicates once', async () => {
    const { status, body } = await get<StatsJson>('/api/v1/dashboard/stats');
    expect(status).toBe(200);
    expect(truth.statusDeliveries).toBeGreaterThan(truth.statusEvents.size);
    expect(asRecord(body.status_events ?? [])).toEqual(
      tally(truth.statusEvents.values(), (e) => `${e.operator}/${e.status}`),
    );
  });

  it("counts numbers by lifecycle status and current conflicts as the generator's expected state", async () => {
    const expected = expectedState(population).filter((s) => s.deliveries > 0);
    const { body } = await get<StatsJson>('/api/v1/dashboard/stats');
    expect(asRecord(body.numbers_by_lifecycle_status ?? [])).toEqual(
      tally(expected, (s) => s.lifecycleStatus),
    );
    const conflicts = expected.flatMap((s) => s.conflicts.map((c) => c.code));
    expect(asRecord(body.conflicts_by_code ?? [])).toEqual(tally(conflicts, (c) => c));
  });

  it('counts verifications per organisation once each, and shows a service provider only its own', async () => {
    const hub = await get<StatsJson>('/api/v1/dashboard/stats');
    expect(asRecord(hub.body.verifications)).toEqual({
      'Bank A/VERIFIED': 6,
      'Bank A/FAILED': 1,
      'Bank B/VERIFIED': 3,
      'Bank B/FAILED': 1,
    });
    const bank = await get<StatsJson>('/api/v1/dashboard/stats', KEYS.bankA.key);
    expect(bank.status).toBe(200);
    expect(asRecord(bank.body.verifications)).toEqual({ 'Bank A/VERIFIED': 6, 'Bank A/FAILED': 1 });
    expect(bank.body.status_events).toBeUndefined();
    const operator = await get<StatsJson>('/api/v1/dashboard/stats', KEYS.mtn.key);
    expect(asRecord(operator.body.verifications)).toEqual({ '/VERIFIED': 9, '/FAILED': 2 });
  });

  it('limits event volumes to a period when one is given', async () => {
    const { body } = await get<StatsJson>('/api/v1/dashboard/stats?from=2024-01-01&to=2024-03-31');
    const inPeriod = [...truth.statusEvents.values()].filter(
      (e) => e.day >= '2024-01-01' && e.day <= '2024-03-31',
    );
    expect(asRecord(body.status_events ?? [])).toEqual(tally(inPeriod, (e) => `${e.operator}/${e.status}`));
  });

  it('is refused to identity sources', async () => {
    expect((await get('/api/v1/dashboard/stats', KEYS.nimc.key)).status).toBe(403);
  });
});

describe('GET /api/v1/dashboard/trends over the same sample', () => {
  it('gives monthly status events per operator that add up to what was published', async () => {
    const { status, body } = await get<TrendsJson>(
      `/api/v1/dashboard/trends?metric=status_events&granularity=month&dimension=operator&from=${START}&to=${END}`,
    );
    expect(status).toBe(200);
    const perOperator: Record<string, number> = {};
    for (const p of body.points) perOperator[p.key!] = (perOperator[p.key!] ?? 0) + p.value;
    expect(perOperator).toEqual(tally(truth.statusEvents.values(), (e) => e.operator));
    expect(body.points.every((p) => p.bucket.endsWith('-01'))).toBe(true);
  });

  it('gives daily, weekly and hourly buckets that agree with the published events', async () => {
    const day = await get<TrendsJson>(
      '/api/v1/dashboard/trends?granularity=day&dimension=status&from=2024-06-01&to=2024-06-30',
    );
    const june = [...truth.statusEvents.values()].filter((e) => e.day.startsWith('2024-06'));
    expect(Object.fromEntries(day.body.points.map((p) => [`${p.bucket}/${p.key}`, p.value]))).toEqual(
      tally(june, (e) => `${e.day}/${e.status}`),
    );
    const week = await get<TrendsJson>(
      '/api/v1/dashboard/trends?granularity=week&from=2024-06-03&to=2024-06-30',
    );
    expect(week.body.points.map((p) => p.bucket)).toEqual(
      ['2024-06-03', '2024-06-10', '2024-06-17', '2024-06-24'].filter((w) =>
        june.some((e) => e.day >= w && e.day < nextWeek(w)),
      ),
    );
    expect(week.body.points.reduce((n, p) => n + p.value, 0)).toBe(
      june.filter((e) => e.day >= '2024-06-03').length,
    );
    const hour = await get<TrendsJson>(
      '/api/v1/dashboard/trends?granularity=hour&from=2024-06-01&to=2024-06-30',
    );
    expect(hour.body.points.reduce((n, p) => n + p.value, 0)).toBe(june.length);
    expect(hour.body.points[0]?.bucket).toMatch(/^2024-06-\d\dT\d\d:00:00Z$/);
  });

  it('gives each operator’s mean reporting lag (received date − occurrence date) per event', async () => {
    const { body } = await get<TrendsJson>(
      `/api/v1/dashboard/trends?metric=reporting_lag&granularity=month&dimension=operator&from=${START}&to=2025-12-31`,
    );
    const sums: Record<string, { lag: number; n: number }> = {};
    for (const p of body.points) {
      const s = sums[p.key!] ?? { lag: 0, n: 0 };
      sums[p.key!] = s;
      s.lag += p.value * p.events!;
      s.n += p.events!;
    }
    const expected: Record<string, { lag: number; n: number }> = {};
    for (const e of truth.statusEvents.values()) {
      const s = expected[e.operator] ?? { lag: 0, n: 0 };
      expected[e.operator] = s;
      s.lag += e.lagDays;
      s.n += 1;
    }
    for (const [op, s] of Object.entries(expected)) {
      expect(sums[op]?.n, op).toBe(s.n);
      expect(sums[op]?.lag, op).toBeCloseTo(s.lag, 6);
    }
  });

  it('counts verifications of a service provider’s own organisation only, and shows it network-wide trends', async () => {
    const own = await get<TrendsJson>(
      '/api/v1/dashboard/trends?metric=verifications&dimension=organisation&from=2024-06-01&to=2024-06-30',
      KEYS.bankA.key,
    );
    expect(own.body.points).toEqual([{ bucket: '2024-06-03', key: 'Bank A', value: 7 }]);
    expect((await get('/api/v1/dashboard/trends?metric=status_events', KEYS.bankA.key)).status).toBe(200);
    expect(
      (await get('/api/v1/dashboard/trends?metric=verifications&dimension=organisation', KEYS.mtn.key))
        .status,
    ).toBe(403);
  });

  it('answers 400 naming the parameter for a bad period, granularity or dimension', async () => {
    const cases: [string, string][] = [
      ['granularity=minute', 'granularity'],
      ['dimension=msisdn', 'dimension'],
      ["dimension=operator'%20--", 'dimension'],
      ['metric=conflicts&dimension=operator', 'dimension'],
      ['from=2024-02-30', 'from'],
      ['from=2024-06-10&to=2024-06-01', 'from'],
      ['granularity=hour&from=2024-01-01&to=2024-06-01', 'to'],
    ];
    for (const [query, field] of cases) {
      const { status, body } = await get<TrendsJson>(`/api/v1/dashboard/trends?${query}`);
      expect(status, query).toBe(400);
      expect(body.code).toBe('VALIDATION_ERROR');
      expect(
        body.errors?.map((e) => e.field),
        query,
      ).toEqual([field]);
    }
  });
});

function nextWeek(monday: string): string {
  return new Date(Date.parse(monday) + 7 * 86_400_000).toISOString().slice(0, 10);
}
