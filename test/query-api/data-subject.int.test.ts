import { createKafka, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { DataSubjectCodec, EventCodec, mask, tokenise } from '@hub/schemas';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistorySink } from '../../processors/src/history/sink.ts';
import { KafkaDeadLetters } from '../../processors/src/kafka/dead-letters.ts';
import { type RunningStateBuilder, runStateBuilder } from '../../processors/src/state-builder/runtime.ts';
import { createHarness, type Harness } from '../security/harness.ts';

/**
 * The data-subject routes over the real services: the account export reads the Kafka-derived
 * account store, the data-subject topic and ClickHouse's audit trail; the deletion limit counts
 * per principal; a subscriber's request is checked by NIN token, and its fulfilment (ACCESS,
 * ERASURE) reads and erases through the projections.
 */

const BASE = '/api/v1/data-subject';
const MSISDN = '2348035550101';
const NIN = '40011122233';

let h: Harness;
let builder: RunningStateBuilder;
let producer: Producer;
let sink: HistorySink;
let adminToken: string;
let bankKey: string;
const quiet = () => {};

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Numbers the NIN lookup (ClickHouse token index) finds. */
async function ninLookup(): Promise<unknown[]> {
  const res = await h.call('POST', '/api/v1/lookups/nin', { token: bankKey, body: { nin: NIN } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { identity: unknown[] } }).data.identity;
}

/** What the reads that show linkages say about the number. */
async function reads() {
  const status = (await (
    await h.call('GET', `/api/v1/identity/msisdn/${MSISDN}/status`, { token: bankKey })
  ).json()) as { active_nin_linkages: number };
  const verify = (await (
    await h.call('POST', '/api/v1/nin-linkages/verify', {
      token: bankKey,
      body: { msisdn: MSISDN, nin: NIN },
    })
  ).json()) as Record<string, unknown>;
  const linkages = await (
    await h.call('GET', `/api/v1/identity/msisdn/${MSISDN}/linkages`, { token: bankKey })
  ).text();
  return { active: status.active_nin_linkages, verify, linkages, lookup: await ninLookup() };
}

async function sessionOf(email: string, password: string): Promise<string> {
  const res = await h.login(email, password);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  h = await createHarness('dsr', { rateLimits: { auth: { limit: 1000, windowMs: 60_000 } } });
  builder = await runStateBuilder(h.config, {
    groupId: `${h.config.TOPIC_PREFIX}state-builder`,
    publishStateChanges: true,
    log: quiet,
  });
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  bankKey = await h.organisation({ id: 'BANKD', name: 'Bank D', type: 'SERVICE_PROVIDER' });
  const admin = await h.user('HUB', 'Admin');
  adminToken = await sessionOf(admin.email, admin.password);

  const topics = topicNames(h.config.TOPIC_PREFIX);
  const registry = createSchemaRegistry(h.config);
  const codec = new EventCodec(registry);
  await codec.register('nin-linkage', topics.ninLinkages);
  await codec.register('audit', topics.audit);
  const dsCodec = new DataSubjectCodec(registry);
  await dsCodec.register(topics.dataSubject);
  const kafka = createKafka(h.config);
  producer = createProducer(kafka);
  await producer.connect();
  // The history sink as deployed: honouring erasures.
  sink = new HistorySink({
    kafka,
    clickhouse: h.resources.ctx.clickhouse,
    database: h.config.CLICKHOUSE_DATABASE,
    codec,
    topics,
    groupId: `${h.config.TOPIC_PREFIX}history-sink`,
    deadLetters: new KafkaDeadLetters(producer, codec),
    erasures: { codec: dsCodec },
    maxWaitMs: 100,
    fetchMinBytes: 1,
    log: quiet,
  });
  await sink.start();
  const at = Date.UTC(2025, 0, 5);
  await producer.send({
    topic: topics.ninLinkages,
    messages: [
      {
        key: MSISDN,
        value: codec.encode('nin-linkage', {
          eventId: `dsr-nin-${MSISDN}`,
          source: 'GENERATOR',
          occurredAt: at,
          receivedAt: at,
          msisdn: MSISDN,
          action: 'LINK',
          ninToken: tokenise('NIN', NIN, h.config.TOKEN_SECRET),
          ninMasked: mask(NIN),
          linkDate: '2025-01-05',
        }),
      },
    ],
  });
  await eventually('the linkage in Redis and ClickHouse', async () => {
    const [r] = await h.resources.ctx.readState([MSISDN]);
    return (r?.record?.nin.length ?? 0) === 1 && (await ninLookup()).length === 1;
  });
}, 120_000);

afterAll(async () => {
  await sink?.stop();
  await producer?.disconnect();
  await builder?.stop();
  await h?.close();
});

describe('privacy policy', () => {
  it('is public, versioned JSON, and a page for a browser', async () => {
    const res = await h.call('GET', `${BASE}/privacy-policy`);
    expect(res.status).toBe(200);
    const policy = (await res.json()) as {
      version: string;
      retention: unknown[];
      categories: { held_as: string }[];
    };
    expect(policy.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(policy.retention.length).toBeGreaterThan(3);
    expect(JSON.stringify(policy.categories)).toMatch(/tokens/);
    const page = await h.call('GET', `${BASE}/privacy-policy`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<h1>Privacy policy<\/h1>/);
  });
});

describe('an account holder’s own data', () => {
  it('records consent changes and exports the account, consents, requests and audit entries', async () => {
    const person = await h.user('BANKD', 'ServiceProvider');
    const token = await sessionOf(person.email, person.password);
    const granted = await h.call('POST', `${BASE}/consent/grant`, {
      token,
      body: { purpose: 'PRODUCT_EMAILS' },
    });
    expect(granted.status).toBe(200);
    expect(await granted.json()).toMatchObject({ purpose: 'PRODUCT_EMAILS', granted: true });
    const withdrawn = await h.call('POST', `${BASE}/consent/withdraw`, {
      token,
      body: { purpose: 'PRODUCT_EMAILS' },
    });
    expect(await withdrawn.json()).toMatchObject({ purpose: 'PRODUCT_EMAILS', granted: false });
    const bad = await h.call('POST', `${BASE}/consent/grant`, { token, body: { purpose: 'SPAM' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('purpose');
    const consents = (await (await h.call('GET', `${BASE}/consent`, { token })).json()) as {
      items: { purpose: string; granted: boolean }[];
    };
    expect(consents.items).toEqual([expect.objectContaining({ purpose: 'PRODUCT_EMAILS', granted: false })]);

    let exported: Record<string, unknown> = {};
    await eventually('the consent audit entries in ClickHouse', async () => {
      const res = await h.call('GET', `${BASE}/my-data`, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="my-data-/);
      exported = (await res.json()) as Record<string, unknown>;
      const actions = (exported.audit_entries as { action: string }[]).map((a) => a.action);
      return actions.includes('CONSENT_GRANTED') && actions.includes('CONSENT_WITHDRAWN');
    });
    expect(exported.account).toMatchObject({ id: person.id, email: person.email, role: 'ServiceProvider' });
    expect(exported.organisation).toMatchObject({ id: 'BANKD', type: 'SERVICE_PROVIDER' });
    expect(exported.consents).toEqual([
      expect.objectContaining({ purpose: 'PRODUCT_EMAILS', granted: false }),
    ]);
    expect(JSON.stringify(exported)).not.toMatch(/passwordHash|password_hash|\$argon|\$scrypt/);
  });

  it('answers 429 on the third deletion request within the hour, for that principal only', async () => {
    const a = await h.user('BANKD', 'ServiceProvider');
    const b = await h.user('BANKD', 'ServiceProvider');
    const ta = await sessionOf(a.email, a.password);
    const tb = await sessionOf(b.email, b.password);
    const first = await h.call('POST', `${BASE}/delete-my-data`, { token: ta });
    expect(first.status).toBe(202);
    const filed = (await first.json()) as {
      request: { id: string; status: string };
      kept: { why: string }[];
    };
    expect(filed.request.status).toBe('RECEIVED');
    expect(filed.kept.map((k) => k.why).join(' ')).toMatch(/legal obligation/);
    const second = await h.call('POST', `${BASE}/delete-my-data`, { token: ta });
    expect(second.status).toBe(202);
    expect(((await second.json()) as { request: { id: string } }).request.id).toBe(filed.request.id);
    const third = await h.call('POST', `${BASE}/delete-my-data`, { token: ta });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBeTruthy();
    expect((await h.call('POST', `${BASE}/delete-my-data`, { token: tb })).status).toBe(202);
    // An API key is not a person.
    expect((await h.call('POST', `${BASE}/delete-my-data`, { token: bankKey })).status).toBe(403);

    // The request stays readable; fulfilling it erases the account and ends its sessions.
    const read = await h.call('GET', `${BASE}/requests/${filed.request.id}`, { token: ta });
    expect(read.status).toBe(200);
    const done = await h.call('POST', `${BASE}/requests/${filed.request.id}/fulfil`, { token: adminToken });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ status: 'COMPLETED', type: 'ACCOUNT_ERASURE' });
    expect((await h.call('GET', `${BASE}/consent`, { token: ta })).status).toBe(401);
    expect((await h.login(a.email, a.password)).status).toBe(401);
    expect(await h.resources.ctx.security.store.user(a.id)).toBeNull();
  });
});

describe('a subscriber’s data-subject request', () => {
  it('refuses an unknown type (400, listing the types) and a NIN the number does not hold (422)', async () => {
    const unknown = await h.call('POST', `${BASE}/access-request`, {
      token: bankKey,
      body: { type: 'DELETE', msisdn: MSISDN, nin: NIN },
    });
    expect(unknown.status).toBe(400);
    const body = (await unknown.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors[0]).toMatchObject({ field: 'type' });
    expect(body.errors[0]?.message).toMatch(/ACCESS, RECTIFICATION, ERASURE, OBJECTION/);
    for (const [msisdn, nin] of [
      [MSISDN, '40011122299'],
      ['2348035550199', NIN],
    ] as const) {
      const refused = await h.call('POST', `${BASE}/access-request`, {
        token: bankKey,
        body: { type: 'ACCESS', msisdn, nin },
      });
      expect(refused.status).toBe(422);
      const r = (await refused.json()) as { code: string; detail: string };
      expect(r.code).toBe('SUBJECT_NOT_MATCHED');
      expect(r.detail).toBe('the number and the NIN given do not identify a data subject the hub holds');
    }
  });

  it('files, assigns and fulfils ACCESS, then ERASURE removes the linkage from every read', async () => {
    const filed = await h.call('POST', `${BASE}/access-request`, {
      token: bankKey,
      body: { type: 'ACCESS', msisdn: '08035550101', nin: NIN },
    });
    expect(filed.status).toBe(201);
    const request = (await filed.json()) as { id: string; due_date: string; subject: string };
    expect(request.subject).not.toContain('5550101');
    expect(new Date(request.due_date).getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const list = (await (await h.call('GET', `${BASE}/requests`, { token: adminToken })).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((i) => i.id)).toContain(request.id);
    const assigned = await h.call('POST', `${BASE}/requests/${request.id}/assign`, {
      token: adminToken,
      body: { assignee: 'user:desk' },
    });
    expect(await assigned.json()).toMatchObject({ status: 'ASSIGNED', assignee: 'user:desk' });
    const access = await h.call('POST', `${BASE}/requests/${request.id}/fulfil`, { token: adminToken });
    const accessed = (await access.json()) as {
      outcome: { holdings: { nin_linkages: { masked: string }[] } };
    };
    expect(accessed.outcome.holdings.nin_linkages).toEqual([expect.objectContaining({ masked: mask(NIN) })]);
    expect(JSON.stringify(accessed)).not.toContain(NIN);

    const erasure = (await (
      await h.call('POST', `${BASE}/access-request`, {
        token: bankKey,
        body: { type: 'ERASURE', msisdn: MSISDN, nin: NIN },
      })
    ).json()) as { id: string };
    const before = await reads();
    expect(before.active).toBe(1);
    expect(before.linkages).toContain(mask(NIN));
    expect(before.lookup).toHaveLength(1);
    const erased = await h.call('POST', `${BASE}/requests/${erasure.id}/fulfil`, { token: adminToken });
    expect(await erased.json()).toMatchObject({ status: 'COMPLETED', type: 'ERASURE' });
    await eventually('the linkage gone from the state', async () => {
      const [r] = await h.resources.ctx.readState([MSISDN]);
      return r?.record?.nin.length === 0;
    });
    // One delete per table: ClickHouse applies each on its own, so wait for the last of them.
    await eventually('the linkage gone from the history store', async () => {
      const { linkages, lookup } = await reads();
      return lookup.length === 0 && !linkages.includes(mask(NIN));
    });
    const after = await reads();
    expect(after.active).toBe(0);
    expect(after.linkages).not.toContain(mask(NIN));
    expect(after.lookup).toEqual([]);
    expect(JSON.stringify(after.verify)).not.toEqual(JSON.stringify(before.verify));
    // The NIN no longer matches the number: a new request is refused like any unknown subject.
    const again = await h.call('POST', `${BASE}/access-request`, {
      token: bankKey,
      body: { type: 'ACCESS', msisdn: MSISDN, nin: NIN },
    });
    expect(again.status).toBe(422);
  });
});

describe('the OpenAPI document', () => {
  it('lists every data-subject route', async () => {
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as { paths: Record<string, object> };
    for (const path of [
      '/privacy-policy',
      '/my-data',
      '/delete-my-data',
      '/consent',
      '/consent/grant',
      '/consent/withdraw',
      '/access-request',
      '/requests',
      '/requests/{id}',
      '/requests/{id}/assign',
      '/requests/{id}/fulfil',
    ])
      expect(doc.paths, path).toHaveProperty([`${BASE}${path}`]);
  });
});
