import type { ClickHouseClient } from '@clickhouse/client';
import {
  type ExpectedState,
  eventsOf,
  expectedState,
  generatePopulation,
  type Population,
  type SampleEvent,
  sendSampleEvents,
} from '@hub/dev-tools/sample/index';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createProducer,
  createSchemaRegistry,
  quoteIdentifier,
  topicNames,
} from '@hub/infra';
import { staticApiKeyAuthenticator } from '@hub/ingest';
import { EventCodec, type EventKind, tokenise } from '@hub/schemas';
import { RAW_TABLES } from '@hub/state/history/tables';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../processors/src/history/migrate.ts';
import { HistorySink } from '../../processors/src/history/sink.ts';
import { KafkaDeadLetters } from '../../processors/src/kafka/index.ts';
import { createStateBuilder, type StateBuilder } from '../../processors/src/state-builder/builder.ts';
import { registerInputs } from '../../processors/src/state-builder/scenarios.ts';
import { waitForCatchUp } from '../../processors/src/state-builder/test-env.ts';
import { createApiApp } from '../../query-api/src/app.ts';
import { type ApiResources, createApiContext } from '../../query-api/src/bootstrap.ts';
import type { ApiApp } from '../../query-api/src/context.ts';
import type { NewVerification } from '../../query-api/src/verifications.ts';
import { createTestTopics, testPrincipal as principal, testConfig } from '../support/stack.ts';

const END_DATE = '2025-06-30';
/** 2025-07-01 10:00 in Lagos: the API's clock, the day after the sample's last day. */
const NOW = Date.UTC(2025, 6, 1, 9, 0, 0);
const TODAY = '2025-07-01';
const DAY = 86_400_000;

const KEYS = {
  hub: { key: 'hub-id-key', principal: principal('NCC', 'HUB', null) },
  bank: { key: 'bank-id-key', principal: principal('Bank A', 'SERVICE_PROVIDER', null) },
  mtn: { key: 'mtn-id-key', principal: principal('MTN Nigeria', 'OPERATOR', 'MTN') },
  nimc: { key: 'nimc-id-key', principal: principal('NIMC', 'IDENTITY_SOURCE', null) },
};
type Who = keyof typeof KEYS;

let config: Config;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let clickhouse: ClickHouseClient;
let builder: StateBuilder;
let sink: HistorySink;
let resources: ApiResources;
let app: ApiApp;
let population: Population;
let expected: ExpectedState[];
const recorded: NewVerification[] = [];

const byMsisdn = new Map<string, ExpectedState>();

const plus = (m: string) => `+${m}`;

function call(method: string, path: string, body?: unknown, who: Who | null = 'hub') {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (who) headers.authorization = `Bearer ${KEYS[who].key}`;
  return app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}
const get = (path: string, who: Who | null = 'hub') => call('GET', path, undefined, who);
const post = (path: string, body: unknown, who: Who | null = 'hub') => call('POST', path, body, who);

async function count(query: string): Promise<number> {
  const rs = await clickhouse.query({ query, format: 'JSONEachRow' });
  const rows = await rs.json<{ n: string | number }>();
  return Number(rows[0]?.n ?? 0);
}

async function highWater(topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/** Waits until the sink stored every record of each topic (it inserts each offset exactly once). */
async function waitForHistory(pairs: [string, string][], timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const db = quoteIdentifier(config.CLICKHOUSE_DATABASE);
  for (const [topic, table] of pairs) {
    const want = await highWater(topic);
    for (;;) {
      const have = await count(`SELECT count() AS n FROM ${db}.${table}`).catch(() => -1);
      if (have >= want) break;
      if (Date.now() > deadline) throw new Error(`${table}: ${have} of ${want} rows`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

beforeAll(async () => {
  config = testConfig('identity', { KAFKA_PARTITIONS: '3' });
  await createDatabase(config);
  clickhouse = createClickHouse(config);
  await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  kafka = await createTestTopics(config);
  admin = kafka.admin();
  await admin.connect();
  producer = createProducer(kafka);
  await producer.connect();
  const topics = topicNames(config.TOPIC_PREFIX);
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerInputs(codec, topics);
  const kinds: [Exclude<EventKind, 'dead-letter'>, string][] = [
    ['state-change', topics.stateChanges],
    ['verification', topics.verifications],
    ['audit', topics.audit],
  ];
  for (const [kind, topic] of kinds) await codec.register(kind, topic);

  population = generatePopulation({
    numbers: 1500,
    seed: 20250630,
    tokenSecret: config.TOKEN_SECRET,
    endDate: END_DATE,
  });
  expected = expectedState(population);
  for (const e of expected) byMsisdn.set(e.msisdn, e);

  const groupId = `${config.TOPIC_PREFIX}state-builder`;
  const { createRedis } = await import('@hub/infra');
  const redis = createRedis(config);
  builder = createStateBuilder({
    kafka,
    redis,
    codec,
    topics,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    groupId,
    deadLetters: new KafkaDeadLetters(producer, codec),
    stateChanges: { producer },
    log: () => {},
  });
  sink = new HistorySink({
    kafka,
    clickhouse,
    database: config.CLICKHOUSE_DATABASE,
    codec,
    topics,
    groupId: `${config.TOPIC_PREFIX}history-sink`,
    deadLetters: new KafkaDeadLetters(producer, codec),
    log: () => {},
  });
  await Promise.all([builder.start(), sink.start()]);
  // Topics are consumed independently, so a COMPLETED delink applied before the linkages it
  // clears would clear nothing: every other event is applied first, then the delinks.
  const events = [...eventsOf(population)];
  const send = (batch: SampleEvent[]) => sendSampleEvents(producer, codec, topics, batch);

  await send(events.filter((e) => e.kind !== 'delink'));
  await waitForCatchUp(admin, topics, groupId, 90_000);
  await send(events.filter((e) => e.kind === 'delink'));
  await waitForCatchUp(admin, topics, groupId, 90_000);
  await waitForHistory([
    [topics.statusUpdates, RAW_TABLES['status-update']],
    [topics.ninLinkages, RAW_TABLES['nin-linkage']],
    [topics.bvnLinkages, RAW_TABLES['bvn-linkage']],
    [topics.delink, RAW_TABLES.delink],
    [topics.stateChanges, RAW_TABLES['state-change']],
  ]);
  await builder.stop();
  await redis.quit();

  resources = await createApiContext(config, {
    authenticate: staticApiKeyAuthenticator(Object.values(KEYS)),
    now: () => NOW,
    // The tests call far more often than a client may; the limits have their own tests.
    security: { rateLimits: { general: { limit: 1_000_000, windowMs: 60_000 } } },
  });
  const original = resources.ctx.verifications.record.bind(resources.ctx.verifications);
  resources.ctx.verifications.record = (events) => {
    recorded.push(...events);
    original(events);
  };
  app = createApiApp(resources.ctx, resources.probes);
}, 240_000);

afterAll(async () => {
  await sink?.stop();
  await resources?.close();
  const prefix = config.REDIS_KEY_PREFIX;
  const { createRedis } = await import('@hub/infra');
  const redis = createRedis(config);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
  await clickhouse?.command({
    query: `DROP DATABASE IF EXISTS ${quoteIdentifier(config.CLICKHOUSE_DATABASE)}`,
  });
  await clickhouse?.close();
  await producer?.disconnect();
  await admin?.disconnect();
}, 60_000);

/** Raw identifiers of a number's simulated life (the test is the only place they exist). */
function rawIds(msisdn: string) {
  const n = population.numbers.find((x) => x.msisdn === msisdn)!;
  const nins = new Set<string>();
  const bvns = new Map<string, { nuban: string; bankCode: string }>();
  for (const e of n.truth) {
    if (e.kind === 'nin-linkage') nins.add(e.nin);
    if (e.kind === 'bvn-linkage') bvns.set(e.bvn, { nuban: e.nuban, bankCode: e.bankCode });
  }
  return { nins: [...nins], bvns: [...bvns], truth: n.truth };
}

const pick = (filter: (e: ExpectedState) => boolean, n = 20) => expected.filter(filter).slice(0, n);

describe('GET /api/v1/identity/msisdn/{number}/status', () => {
  it('answers exactly the documented fields with the values the generator expects, for every number', async () => {
    for (const e of expected) {
      const res = await get(`/api/v1/identity/msisdn/${e.msisdn}/status`);
      // A number whose simulated life produced no event is unknown to the hub.
      if (e.deliveries === 0) {
        expect(res.status, e.msisdn).toBe(404);
        continue;
      }
      expect(res.status, `${e.msisdn} ${res.status === 200 ? '' : await res.clone().text()}`).toBe(200);
      expect(await res.json(), e.msisdn).toStrictEqual({
        msisdn: plus(e.msisdn),
        status: e.lifecycleStatus,
        is_recycled: e.isRecycled,
        active_nin_linkages: e.activeNinLinkages,
        active_bvn_linkages: e.activeBvnLinkages,
        can_assign_to_new_user: e.canAssignToNewUser,
        cleanup_status: e.cleanupStatus,
        operator_code: e.operator,
      });
    }
  });

  it('accepts the 11-digit and +234 forms of a number', async () => {
    const e = expected.find((x) => x.deliveries > 0)!;
    for (const form of [`0${e.msisdn.slice(3)}`, `%2B${e.msisdn}`, e.msisdn.slice(3)]) {
      const res = await get(`/api/v1/identity/msisdn/${form}/status`);
      expect(res.status, form).toBe(200);
      expect(((await res.json()) as { msisdn: string }).msisdn).toBe(plus(e.msisdn));
    }
  });

  it('answers 404 NOT_FOUND with a detail for a number the hub knows nothing about', async () => {
    let unknown = '2348030000001';
    while (byMsisdn.has(unknown)) unknown = String(Number(unknown) + 1);
    const res = await get(`/api/v1/identity/msisdn/${unknown}/status`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe('NOT_FOUND');
    expect(body.detail).toContain(unknown);
  });
});

describe('GET /api/v1/identity/msisdn/{number}/linkages', () => {
  it('lists current linkages and every link/unlink event once, masked, with no tokens or raw ids', async () => {
    const sample = pick((e) => e.activeNinLinkages + e.activeBvnLinkages > 0 || e.isRecycled, 40);
    expect(sample.length).toBeGreaterThan(10);
    for (const e of sample) {
      const res = await get(`/api/v1/identity/msisdn/${e.msisdn}/linkages`);
      expect(res.status, e.msisdn).toBe(200);
      const text = await res.text();
      const body = JSON.parse(text) as {
        nin: {
          linkages: { active: boolean; stale: boolean; masked: string }[];
          events: { event_id: string }[];
        };
        bvn: { linkages: { active: boolean; stale: boolean }[]; events: { event_id: string }[] };
      };
      const ids = rawIds(e.msisdn);
      expect(body.nin.linkages.filter((l) => l.active).length).toBe(e.activeNinLinkages);
      expect(body.bvn.linkages.filter((l) => l.active).length).toBe(e.activeBvnLinkages);
      const ninEvents = ids.truth.filter((t) => t.kind === 'nin-linkage').length;
      const bvnEvents = ids.truth.filter((t) => t.kind === 'bvn-linkage').length;
      expect(body.nin.events.length, `${e.msisdn} NIN events`).toBe(ninEvents);
      expect(body.bvn.events.length, `${e.msisdn} BVN events`).toBe(bvnEvents);
      expect(new Set(body.nin.events.map((x) => x.event_id)).size).toBe(ninEvents);
      const stale = [...body.nin.linkages, ...body.bvn.linkages].some((l) => l.stale);
      expect(stale, `${e.msisdn} stale`).toBe(e.conflicts.some((c) => c.code === 'STALE_LINKAGE'));
      for (const raw of [...ids.nins, ...ids.bvns.map(([b]) => b)]) expect(text).not.toContain(raw);
      for (const token of [...e.activeNinTokens, ...e.activeBvnTokens]) expect(text).not.toContain(token);
    }
  });
});

describe('GET /api/v1/identity/lookup', () => {
  it('scores in [0, 1] with reasons that match the expected state', async () => {
    for (const e of expected.filter((x) => x.deliveries > 0).slice(0, 400)) {
      const res = await get(`/api/v1/identity/lookup?msisdn=${e.msisdn}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        confidence: number;
        reasons: { code: string; weight: number }[];
        conflicts: unknown[];
        lifecycle_status: string;
      };
      expect(body.confidence).toBeGreaterThanOrEqual(0);
      expect(body.confidence).toBeLessThanOrEqual(1);
      const codes = body.reasons.map((r) => r.code);
      const has = (c: string) => e.conflicts.some((x) => x.code === c);
      expect(codes.includes('STALE_LINKAGE'), e.msisdn).toBe(has('STALE_LINKAGE'));
      expect(codes.includes('NIN_BVN_MISMATCH'), e.msisdn).toBe(has('NIN_BVN_MISMATCH'));
      expect(codes.includes('MULTIPLE_ACTIVE_NIN'), e.msisdn).toBe(has('MULTIPLE_ACTIVE_NIN'));
      expect(codes.includes('NO_LINKAGE'), e.msisdn).toBe(e.activeNinLinkages + e.activeBvnLinkages === 0);
      expect(codes.includes('BLACKLISTED'), e.msisdn).toBe(e.telecomStatus === 'BLACKLISTED');
      expect(codes.includes('NO_TELECOM_STATUS'), e.msisdn).toBe(e.telecomStatus === null);
      const recentSwap =
        e.lastSwappedDate !== null && (Date.parse(TODAY) - Date.parse(e.lastSwappedDate)) / DAY <= 10;
      expect(codes.includes('RECENT_SWAP'), e.msisdn).toBe(recentSwap);
      expect(body.conflicts).toEqual(e.conflicts);
      expect(body.lifecycle_status).toBe(e.lifecycleStatus);
      const sum = body.reasons.reduce((s, r) => s + r.weight, 0.7);
      expect(body.confidence).toBeCloseTo(Math.min(1, Math.max(0, sum)), 5);
    }
  });

  it('gives a clean, corroborated number a full score', async () => {
    const e = expected.find(
      (x) =>
        x.lifecycleStatus === 'ACTIVE' &&
        x.telecomStatus === 'NORMAL' &&
        x.activeBvnLinkages === 1 &&
        x.activeNinLinkages === 1 &&
        x.conflicts.length === 0 &&
        x.lastSwappedDate === null &&
        x.lastReassignedDate === null,
    );
    if (!e) return;
    const body = (await (await get(`/api/v1/identity/lookup?msisdn=${e.msisdn}`)).json()) as {
      confidence: number;
      reasons: { code: string }[];
    };
    if (body.reasons.some((r) => r.code === 'SOURCES_AGREE')) expect(body.confidence).toBe(1);
  });
});

describe('POST /api/v1/identity/batch-lookup', () => {
  it('answers up to 100 numbers in input order with per-item errors for invalid and unknown numbers', async () => {
    const numbers: unknown[] = expected
      .filter((e) => e.deliveries > 0)
      .slice(0, 96)
      .map((e) => e.msisdn);
    numbers.splice(3, 0, '12345');
    numbers.splice(10, 0, 8031234567);
    numbers.push('2349999999990');
    const res = await post('/api/v1/identity/batch-lookup', { msisdns: numbers }, 'mtn');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      items: {
        input: unknown;
        found: boolean;
        mapping: { msisdn: string; lifecycle_status: string } | null;
        error: { code: string; detail: string } | null;
      }[];
      total: number;
    };
    expect(body.total).toBe(99);
    expect(body.items.map((i) => i.input)).toEqual(numbers);
    expect(body.items[3]?.error?.code).toBe('VALIDATION_ERROR');
    expect(body.items[3]?.error?.detail).toContain('msisdns[3]');
    expect(body.items[10]?.error?.code).toBe('VALIDATION_ERROR');
    expect(body.items[98]?.error?.code).toBe('NOT_FOUND');
    for (const item of body.items) {
      if (!item.found) continue;
      const e = byMsisdn.get((item.mapping?.msisdn ?? '').slice(1))!;
      expect(item.mapping?.lifecycle_status).toBe(e.lifecycleStatus);
    }
  });

  it('is for hub and operator organisations only', async () => {
    const res = await post('/api/v1/identity/batch-lookup', { msisdns: [expected[0]!.msisdn] }, 'bank');
    expect(res.status).toBe(403);
  });
});

describe('GET /api/v1/identity/conflicts', () => {
  const conflicted = () =>
    expected.filter((e) => e.conflicts.length > 0).sort((a, b) => (a.msisdn < b.msisdn ? -1 : 1));

  it('pages the numbers whose latest state has conflicts, with since-dates and lifecycle status', async () => {
    const want = conflicted();
    expect(want.length).toBeGreaterThan(5);
    const res = await get('/api/v1/identity/conflicts?limit=100');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      items: { msisdn: string; lifecycle_status: string; conflicts: unknown[] }[];
      total: number;
      skip: number;
      limit: number;
    };
    expect(body.total).toBe(want.length);
    expect(body.skip).toBe(0);
    expect(body.limit).toBe(100);
    expect(
      body.items.map((i) => ({
        msisdn: i.msisdn,
        lifecycle_status: i.lifecycle_status,
        conflicts: i.conflicts,
      })),
    ).toEqual(
      want.slice(0, 100).map((e) => ({
        msisdn: plus(e.msisdn),
        lifecycle_status: e.lifecycleStatus,
        conflicts: e.conflicts,
      })),
    );
    const second = (await (await get('/api/v1/identity/conflicts?skip=5&limit=3')).json()) as {
      items: { msisdn: string }[];
    };
    expect(second.items.map((i) => i.msisdn)).toEqual(want.slice(5, 8).map((e) => plus(e.msisdn)));
  });

  it('filters by conflict code', async () => {
    for (const code of ['STALE_LINKAGE', 'NIN_BVN_MISMATCH', 'MULTIPLE_ACTIVE_NIN'] as const) {
      const body = (await (await get(`/api/v1/identity/conflicts?code=${code}&limit=1`)).json()) as {
        total: number;
      };
      expect(body.total, code).toBe(
        conflicted().filter((e) => e.conflicts.some((c) => c.code === code)).length,
      );
    }
  });

  it('is for hub organisations only', async () => {
    expect((await get('/api/v1/identity/conflicts', 'bank')).status).toBe(403);
    expect((await get('/api/v1/identity/conflicts', null)).status).toBe(401);
  });
});

describe('NIN and BVN linkage checks', () => {
  it('verifies each NIN a number ever had: linked exactly when it is an active token, masked, never echoed', async () => {
    let checked = 0;
    for (const e of expected.slice(0, 300)) {
      for (const nin of rawIds(e.msisdn).nins) {
        const res = await post('/api/v1/nin-linkages/verify', { msisdn: e.msisdn, nin }, 'bank');
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).not.toContain(nin);
        const body = JSON.parse(text) as {
          linked: boolean;
          masked: string;
          stale: boolean;
          link_date: string | null;
        };
        const token = tokenise('NIN', nin, config.TOKEN_SECRET);
        expect(body.linked, `${e.msisdn}`).toBe(e.activeNinTokens.includes(token));
        expect(body.masked).toBe(`*******${nin.slice(-4)}`);
        expect(body.link_date).not.toBeNull();
        if (body.stale) expect(e.conflicts.some((c) => c.code === 'STALE_LINKAGE')).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('bulk-checks up to 100 BVN pairs with per-item errors', async () => {
    const pairs: { msisdn: string; bvn: string; active: boolean }[] = [];
    for (const e of expected) {
      for (const [bvn] of rawIds(e.msisdn).bvns)
        pairs.push({
          msisdn: e.msisdn,
          bvn,
          active: e.activeBvnTokens.includes(tokenise('BVN', bvn, config.TOKEN_SECRET)),
        });
      if (pairs.length >= 97) break;
    }
    const items: unknown[] = pairs.slice(0, 97).map(({ msisdn, bvn }) => ({ msisdn, bvn }));
    items.push({ msisdn: '0801', bvn: '123' }, { msisdn: expected[0]!.msisdn }, 'not an object');
    const res = await post('/api/v1/bvn-linkages/bulk-check', { items }, 'bank');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      items: { index: number; result: { linked: boolean } | null; errors: { field: string }[] | null }[];
      total: number;
      linked: number;
    };
    expect(body.total).toBe(100);
    body.items.slice(0, 97).forEach((item, i) => {
      expect(item.result?.linked, `${i}`).toBe(pairs[i]!.active);
    });
    expect(body.items[97]?.errors?.map((x) => x.field)).toEqual(['items[97].msisdn', 'items[97].bvn']);
    expect(body.items[98]?.errors?.map((x) => x.field)).toEqual(['items[98].bvn']);
    expect(body.items[99]?.errors?.map((x) => x.field)).toEqual(['items[99]']);
    expect(body.linked).toBe(pairs.slice(0, 97).filter((p) => p.active).length);
  });

  it('answers linked false for a NIN the number never had', async () => {
    const e = expected[0]!;
    const body = (await (
      await post('/api/v1/nin-linkages/verify', { msisdn: e.msisdn, nin: '00000000000' })
    ).json()) as {
      linked: boolean;
      link_date: null;
    };
    expect(body).toMatchObject({ linked: false, link_date: null });
  });
});

describe('risk checks', () => {
  const latestChange = (e: ExpectedState) =>
    [e.lastSwappedDate, e.lastReassignedDate]
      .filter((d): d is string => d !== null)
      .sort()
      .at(-1) ?? null;

  it('answers sim-swap check conservatively by day', async () => {
    const sample = [...pick((e) => e.lastSwappedDate !== null, 60), ...expected.slice(0, 40)];
    for (const e of sample) {
      for (const maxAge of [24, 240, 2400]) {
        const res = await post('/api/v1/sim-swap/check', { phoneNumber: plus(e.msisdn), maxAge }, 'bank');
        expect(res.status).toBe(200);
        const d = latestChange(e);
        const want = d !== null && Date.parse(`${d}T23:59:59.999+01:00`) >= NOW - maxAge * 3_600_000;
        expect(await res.json(), `${e.msisdn} ${maxAge}`).toEqual({ swapped: want });
      }
    }
  });

  it('retrieves the latest SIM change date, or the monitored period when none is known', async () => {
    for (const e of [
      ...pick((x) => x.lastSwappedDate !== null, 10),
      ...pick((x) => latestChange(x) === null, 10),
    ]) {
      const body = (await (
        await post('/api/v1/sim-swap/retrieve-date', { phoneNumber: e.msisdn }, 'bank')
      ).json()) as {
        latestSimChange: string | null;
        monitoredPeriod?: number;
      };
      const d = latestChange(e);
      if (d === null) {
        expect(body.latestSimChange).toBeNull();
        expect(body.monitoredPeriod).toBeGreaterThan(300);
      } else {
        expect(body).toEqual({ latestSimChange: `${d}T23:59:59+01:00` });
      }
    }
  });

  it('answers reassigned-number queries: yes since a recycle, no after it, no_data before coverage', async () => {
    const recycled = pick((e) => e.isRecycled, 20);
    expect(recycled.length).toBeGreaterThan(5);
    for (const e of recycled) {
      const recycle = [e.lastChurnedDate, e.lastReassignedDate]
        .filter((d): d is string => d !== null)
        .sort()
        .at(-1)!;
      const yes = await post(
        '/api/v1/reassigned-numbers/query',
        { phoneNumber: e.msisdn, date: recycle },
        'bank',
      );
      expect(await yes.json()).toEqual({ result: 'yes' });
      const next = new Date(Date.parse(recycle) + DAY).toISOString().slice(0, 10);
      const no = await post(
        '/api/v1/reassigned-numbers/query',
        { phoneNumber: e.msisdn, date: next },
        'bank',
      );
      expect(await no.json()).toEqual({ result: 'no' });
    }
    const clean = pick((e) => !e.isRecycled, 1)[0]!;
    const old = await post(
      '/api/v1/reassigned-numbers/query',
      { phoneNumber: clean.msisdn, date: '1990-01-01' },
      'bank',
    );
    expect(await old.json()).toEqual({ result: 'no_data' });
  });
});

describe('Okra-style identity lookups', () => {
  it('finds every number a NIN was linked to, with whether it is active now', async () => {
    let checked = 0;
    for (const e of pick((x) => x.isRecycled && x.activeNinLinkages > 0, 15)) {
      for (const nin of rawIds(e.msisdn).nins) {
        const token = tokenise('NIN', nin, config.TOKEN_SECRET);
        const holders = population.numbers.filter((n) =>
          n.truth.some((t) => t.kind === 'nin-linkage' && t.nin === nin),
        );
        const res = await post('/api/v1/lookups/nin', { nin }, 'bank');
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text).not.toContain(nin);
        expect(text).not.toContain(token);
        const body = JSON.parse(text) as {
          status: string;
          data: { pagination: { totalDocs: number }; identity: { msisdn: string; active: boolean }[] };
        };
        expect(body.status).toBe('success');
        expect(body.data.pagination.totalDocs).toBe(holders.length);
        for (const item of body.data.identity) {
          expect(item.active, item.msisdn).toBe(
            byMsisdn.get(item.msisdn.slice(1))!.activeNinTokens.includes(token),
          );
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('finds numbers by BVN and by NUBAN, and lists a phone number’s identities', async () => {
    const e = pick((x) => x.activeBvnLinkages > 0, 1)[0]!;
    const [bvn, account] = rawIds(e.msisdn).bvns[0]!;
    const byBvn = (await (await post('/api/v1/lookups/bvn', { bvn }, 'hub')).json()) as {
      data: { identity: { msisdn: string }[] };
    };
    expect(byBvn.data.identity.map((i) => i.msisdn)).toContain(plus(e.msisdn));
    const byNuban = (await (
      await post('/api/v1/lookups/nuban', { nuban: account.nuban, bank: account.bankCode }, 'hub')
    ).json()) as {
      data: { identity: { msisdn: string; bank_codes: string[] }[] };
    };
    expect(byNuban.data.identity.map((i) => i.msisdn)).toContain(plus(e.msisdn));
    const byPhone = (await (
      await post('/api/v1/lookups/phone', { phone: e.msisdn, limit: 100 }, 'bank')
    ).json()) as {
      data: { pagination: { totalDocs: number }; identity: { type: string; active: boolean }[] };
    };
    expect(byPhone.data.identity.filter((i) => i.type === 'BVN' && i.active).length).toBe(
      e.activeBvnLinkages,
    );
    expect(byPhone.data.identity.filter((i) => i.type === 'NIN' && i.active).length).toBe(
      e.activeNinLinkages,
    );
  });

  it('is for hub and service-provider organisations, and records each lookup', async () => {
    expect((await post('/api/v1/lookups/nin', { nin: '12345678901' }, 'mtn')).status).toBe(403);
    expect((await post('/api/v1/lookups/nin', { nin: '12345678901' }, 'nimc')).status).toBe(403);
    const before = recorded.length;
    const res = await post('/api/v1/lookups/nin', { nin: '12345678901' }, 'bank');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { identity: unknown[] } }).data.identity).toEqual([]);
    expect(recorded.slice(before)).toMatchObject([
      { channel: 'LOOKUP', verificationStatus: 'FAILED', organisation: 'Bank A' },
    ]);
  });
});

describe('bad inputs', () => {
  const cases: [string, string, string, unknown, string][] = [
    ['status: short number', 'GET', '/api/v1/identity/msisdn/0801234/status', undefined, 'number'],
    ['status: letters', 'GET', '/api/v1/identity/msisdn/080ABC45678/status', undefined, 'number'],
    ['linkages: 12 digits', 'GET', '/api/v1/identity/msisdn/080123456789/linkages', undefined, 'number'],
    ['lookup: missing msisdn', 'GET', '/api/v1/identity/lookup', undefined, 'msisdn'],
    ['lookup: bad msisdn', 'GET', '/api/v1/identity/lookup?msisdn=1234', undefined, 'msisdn'],
    ['conflicts: limit 0', 'GET', '/api/v1/identity/conflicts?limit=0', undefined, 'limit'],
    ['conflicts: skip -1', 'GET', '/api/v1/identity/conflicts?skip=-1', undefined, 'skip'],
    ['conflicts: unknown code', 'GET', "/api/v1/identity/conflicts?code=DROP'", undefined, 'code'],
    ['batch: missing', 'POST', '/api/v1/identity/batch-lookup', {}, 'msisdns'],
    ['batch: empty', 'POST', '/api/v1/identity/batch-lookup', { msisdns: [] }, 'msisdns'],
    [
      'batch: 101',
      'POST',
      '/api/v1/identity/batch-lookup',
      { msisdns: Array(101).fill('08031234567') },
      'msisdns',
    ],
    ['nin verify: no nin', 'POST', '/api/v1/nin-linkages/verify', { msisdn: '08031234567' }, 'nin'],
    [
      'nin verify: short nin',
      'POST',
      '/api/v1/nin-linkages/verify',
      { msisdn: '08031234567', nin: '123' },
      'nin',
    ],
    [
      'nin verify: bad msisdn',
      'POST',
      '/api/v1/nin-linkages/verify',
      { msisdn: '1', nin: '12345678901' },
      'msisdn',
    ],
    [
      'bvn verify: numeric bvn',
      'POST',
      '/api/v1/bvn-linkages/verify',
      { msisdn: '08031234567', bvn: 12345678901 },
      'bvn',
    ],
    ['bulk: no items', 'POST', '/api/v1/nin-linkages/bulk-check', { pairs: [] }, 'items'],
    [
      'bulk: 101 items',
      'POST',
      '/api/v1/bvn-linkages/bulk-check',
      { items: Array(101).fill({ msisdn: '08031234567', bvn: '12345678901' }) },
      'items',
    ],
    ['swap: no number', 'POST', '/api/v1/sim-swap/check', { maxAge: 24 }, 'phoneNumber'],
    ['swap: maxAge 0', 'POST', '/api/v1/sim-swap/check', { phoneNumber: '08031234567', maxAge: 0 }, 'maxAge'],
    [
      'swap: maxAge 2401',
      'POST',
      '/api/v1/sim-swap/check',
      { phoneNumber: '08031234567', maxAge: 2401 },
      'maxAge',
    ],
    [
      'swap: maxAge string',
      'POST',
      '/api/v1/sim-swap/check',
      { phoneNumber: '08031234567', maxAge: '24' },
      'maxAge',
    ],
    [
      'swap date: bad number',
      'POST',
      '/api/v1/sim-swap/retrieve-date',
      { phoneNumber: '+1555' },
      'phoneNumber',
    ],
    [
      'reassigned: no date',
      'POST',
      '/api/v1/reassigned-numbers/query',
      { phoneNumber: '08031234567' },
      'date',
    ],
    [
      'reassigned: bad date',
      'POST',
      '/api/v1/reassigned-numbers/query',
      { phoneNumber: '08031234567', date: '2024-02-30' },
      'date',
    ],
    ['lookup nin: missing', 'POST', '/api/v1/lookups/nin', {}, 'nin'],
    ['lookup bvn: letters', 'POST', '/api/v1/lookups/bvn', { bvn: 'abcdefghijk' }, 'bvn'],
    ['lookup nuban: 11 digits', 'POST', '/api/v1/lookups/nuban', { nuban: '01234567890' }, 'nuban'],
    ['lookup nuban: bad bank', 'POST', '/api/v1/lookups/nuban', { nuban: '0123456789', bank: 'x' }, 'bank'],
    ['lookup phone: bad', 'POST', '/api/v1/lookups/phone', { phone: '123' }, 'phone'],
    [
      'lookup phone: limit 500',
      'POST',
      '/api/v1/lookups/phone',
      { phone: '08031234567', limit: 500 },
      'limit',
    ],
    ['lookup: array body', 'POST', '/api/v1/lookups/nin', [1], 'body'],
  ];

  it.each(cases)('%s → 400 naming the field', async (_name, method, path, body, field) => {
    const res = await call(method, path, body, 'hub');
    expect(res.status).toBe(400);
    const json = (await res.json()) as { code: string; detail: string; errors?: { field: string }[] };
    expect(json.code).toBe('VALIDATION_ERROR');
    expect(json.errors?.map((e) => e.field)).toContain(field);
    expect(json.detail).toContain(field);
  });

  it('answers malformed JSON and a wrong content type with 4xx, not 500', async () => {
    const headers = { authorization: `Bearer ${KEYS.hub.key}`, 'content-type': 'application/json' };
    const malformed = await app.request('/api/v1/sim-swap/check', {
      method: 'POST',
      headers,
      body: '{"phoneNumber":',
    });
    expect(malformed.status).toBe(400);
    const wrongType = await app.request('/api/v1/nin-linkages/verify', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(wrongType.status).toBe(415);
  });
});

describe('OpenAPI document', () => {
  it('covers every identity, linkage, risk-check and lookup route', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const want: [string, string][] = [
      ['/api/v1/identity/msisdn/{number}/status', 'get'],
      ['/api/v1/identity/msisdn/{number}/linkages', 'get'],
      ['/api/v1/identity/lookup', 'get'],
      ['/api/v1/identity/batch-lookup', 'post'],
      ['/api/v1/identity/conflicts', 'get'],
      ['/api/v1/nin-linkages/verify', 'post'],
      ['/api/v1/nin-linkages/bulk-check', 'post'],
      ['/api/v1/bvn-linkages/verify', 'post'],
      ['/api/v1/bvn-linkages/bulk-check', 'post'],
      ['/api/v1/sim-swap/check', 'post'],
      ['/api/v1/sim-swap/retrieve-date', 'post'],
      ['/api/v1/reassigned-numbers/query', 'post'],
      ['/api/v1/lookups/nin', 'post'],
      ['/api/v1/lookups/bvn', 'post'],
      ['/api/v1/lookups/nuban', 'post'],
      ['/api/v1/lookups/phone', 'post'],
    ];
    for (const [path, method] of want) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });
});
