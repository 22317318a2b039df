import { createKafka, createProducer, partitionFor, topicNames } from '@hub/infra';
import type { Producer } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic } from '../support/stack.ts';
import { createHarness, type Harness } from './harness.ts';

const VERIFY = '/api/v1/phone/api/phone-numbers/verify';

let h: Harness;
let producer: Producer;
let adminToken: string;

const verify = (key: string) => h.call('POST', VERIFY, { token: key, body: { phoneNumber: '08031234567' } });

/** Polls until `check` holds (the projector applies records asynchronously). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  h = await createHarness(
    'failclosed',
    { rateLimits: { auth: { limit: 1000, windowMs: 60_000 } } },
    { history: false },
  );
  producer = createProducer(createKafka(h.config));
  await producer.connect();
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  const admin = await h.user('HUB', 'Admin');
  adminToken = ((await (await h.login(admin.email, admin.password)).json()) as { access_token: string })
    .access_token;
});

afterAll(async () => {
  await producer?.disconnect();
  await h?.close();
});

describe('an account record the projector cannot read', () => {
  it("refuses that organisation's credentials (503) instead of skipping it, and serves the others", async () => {
    const poisoned = await h.organisation({ id: 'BANKQ', name: 'Bank Q', type: 'SERVICE_PROVIDER' });
    const healthy = await h.organisation({ id: 'BANKR', name: 'Bank R', type: 'SERVICE_PROVIDER' });
    expect((await verify(poisoned)).status).toBe(200);
    const person = await h.user('BANKQ', 'ServiceProvider');
    const session = (
      (await (await h.login(person.email, person.password)).json()) as { access_token: string }
    ).access_token;

    // Could have been the revocation of BANKQ's key: nothing of BANKQ may pass until it is read.
    await producer.send({
      topic: topicNames(h.config.TOPIC_PREFIX).accounts,
      messages: [
        {
          key: 'BANKQ:key:unknown',
          value: Buffer.from('not an account event'),
          partition: partitionFor('BANKQ', 2),
        },
      ],
    });
    await eventually(async () => (await verify(poisoned)).status === 503);
    const refused = await verify(poisoned);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).not.toContain('not an account event');
    expect((await h.call('GET', '/api/v1/api-keys', { token: session })).status).toBe(503);
    expect((await verify(healthy)).status).toBe(200);
  });

  it('keeps applying later records: a revocation after the unreadable one still takes effect', async () => {
    const key = await h.organisation({ id: 'BANKS', name: 'Bank S', type: 'SERVICE_PROVIDER' });
    await producer.send({
      topic: topicNames(h.config.TOPIC_PREFIX).accounts,
      messages: [
        { key: 'BANKT:org', value: Buffer.from([0, 0, 0, 0, 1, 2, 3]), partition: partitionFor('BANKS', 2) },
      ],
    });
    expect((await verify(key)).status).toBe(200);
    const sec = h.resources.ctx.security;
    const record = (await sec.store.organisationKeys('BANKS'))[0];
    if (!record) throw new Error('key not projected');
    await sec.revokeKey('system:test', record);
    expect((await verify(key)).status).toBe(401);
  });
});

describe('deleting a user', () => {
  it('leaves a tombstone on the compacted accounts topic and ends the user', async () => {
    const user = await h.user('HUB', 'Analyst');
    const session = ((await (await h.login(user.email, user.password)).json()) as { access_token: string })
      .access_token;
    const res = await h.call('DELETE', `/api/v1/users/${user.id}`, { token: adminToken });
    expect(res.status).toBe(200);
    expect((await h.call('DELETE', `/api/v1/users/${user.id}`, { token: adminToken })).status).toBe(404);
    expect((await h.login(user.email, user.password)).status).toBe(401);
    expect((await h.call('POST', '/api/v1/auth/logout', { token: session })).status).toBe(401);

    // The projection keeps no snapshot, so no password hash, of the user.
    const keys = h.resources.ctx.security.keys;
    expect(await h.resources.ctx.redis.hget(keys.user(user.id), 'v')).toBe('');
    expect(await h.resources.ctx.redis.get(keys.userByEmail(user.email))).toBeNull();

    const topic = topicNames(h.config.TOPIC_PREFIX).accounts;
    const kafka = createKafka(h.config);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
      const records = await readTopic(kafka, topic, total);
      const mine = records.filter((r) => r.message.key?.toString() === `HUB:user:${user.id}`);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(mine.at(-1)?.message.value).toBeNull();
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
    // The address is free for someone new.
    const again = await h.call('POST', '/api/v1/users', {
      token: adminToken,
      body: {
        organisation: 'HUB',
        email: user.email,
        name: 'New',
        role: 'Analyst',
        password: 'a long new passphrase',
      },
    });
    expect(again.status).toBe(201);
  });

  it('answers 404 for an unknown user and 403 for a non-Admin', async () => {
    expect((await h.call('DELETE', '/api/v1/users/nobody', { token: adminToken })).status).toBe(404);
    const analyst = await h.user('HUB', 'Analyst');
    const token = (
      (await (await h.login(analyst.email, analyst.password)).json()) as { access_token: string }
    ).access_token;
    expect((await h.call('DELETE', `/api/v1/users/${analyst.id}`, { token })).status).toBe(403);
  });
});
