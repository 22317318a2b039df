import { createClickHouse, createProducer } from '@hub/infra';
import { rebuildingKey } from '@hub/state';
import { stateSlot } from '@hub/state/keys';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';
import { kafkaOutage } from '../support/outage.ts';

let h: Harness;
let key: string;

beforeAll(async () => {
  h = await createHarness('unavailable');
  key = await h.organisation({ id: 'BANKU', name: 'Bank U', type: 'SERVICE_PROVIDER' });
});

afterAll(async () => {
  await h?.close();
});

describe('while the state projection is being rebuilt', () => {
  it('answers 503 with Retry-After on the verify and identity paths, then serves again', async () => {
    const verify = () =>
      h.call('POST', '/api/v1/phone/api/phone-numbers/verify', {
        token: key,
        body: { phoneNumber: '08031234567' },
      });
    const status = () => h.call('GET', '/api/v1/identity/msisdn/08031234567/status', { token: key });
    expect((await verify()).status).toBe(200);

    await h.resources.ctx.redis.set(rebuildingKey(h.config.REDIS_KEY_PREFIX), '{}');
    try {
      const during = await verify();
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toBe('5');
      expect(await during.json()).toMatchObject({
        status: 'Failure',
        data: { code: 'SERVICE_UNAVAILABLE' },
        statusCode: '503',
      });
      const identity = await status();
      expect(identity.status).toBe(503);
      expect(await identity.json()).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        detail: expect.stringContaining('rebuilt'),
      });
      const bulk = await h.call('POST', '/api/v1/phone/api/phone-numbers/verify/bulk', {
        token: key,
        body: { phoneNumbers: ['0801'] },
      });
      expect(bulk.status).toBe(503);
    } finally {
      await h.resources.ctx.redis.del(rebuildingKey(h.config.REDIS_KEY_PREFIX));
    }
    expect((await verify()).status).toBe(200);
  });
});

describe('a number whose stored record does not decode', () => {
  it('answers 503 saying the record awaits repair, with a long Retry-After, while other numbers are served', async () => {
    const slot = stateSlot(h.config.REDIS_KEY_PREFIX, '2348031990001');
    await h.resources.ctx.redis.hset(slot.key, slot.field, Buffer.from([0xff, 0x13, 0x37]));
    const damaged = await h.call('POST', '/api/v1/phone/api/phone-numbers/verify', {
      token: key,
      body: { phoneNumber: '08031990001' },
    });
    expect(damaged.status).toBe(503);
    expect(damaged.headers.get('retry-after')).toBe('300');
    const body = (await damaged.json()) as { data: { code: string; message: string } };
    expect(body.data.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(body)).toContain('cannot be read until the projection repairs it');
    const identity = await h.call('GET', '/api/v1/identity/msisdn/08031990001/status', { token: key });
    expect(identity.status).toBe(503);
    const healthy = await h.call('POST', '/api/v1/phone/api/phone-numbers/verify', {
      token: key,
      body: { phoneNumber: '08031990002' },
    });
    expect(healthy.status).toBe(200);
  });
});

describe('an error answered to a request with a body', () => {
  it('closes the connection, so a client does not reuse a socket with unread bytes on it', async () => {
    const tooLarge = await h.call('PUT', '/api/v1/phone/api/phone-numbers/status', {
      token: key,
      raw: 'x'.repeat(2_000_000),
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('connection')).toBe('close');
    const ok = await h.call('POST', '/api/v1/phone/api/phone-numbers/verify', {
      token: key,
      body: { phoneNumber: '08031234567' },
    });
    expect(ok.headers.get('connection')).toBeNull();
  });
});

describe('ClickHouse errors', () => {
  const linkages = () => h.call('GET', '/api/v1/identity/msisdn/08031234567/linkages', { token: key });

  it('a query the store refuses as wrong (a missing table) is a 500 with the request id, not a 503', async () => {
    const db = h.config.CLICKHOUSE_DATABASE;
    const clickhouse = createClickHouse(h.config);
    try {
      expect((await linkages()).status).toBe(404);
      await clickhouse.command({
        query: `RENAME TABLE ${db}.nin_linkage_events_v1 TO ${db}.nin_linkage_events_v1_away`,
      });
      try {
        const res = await linkages();
        expect(res.status).toBe(500);
        expect(res.headers.get('retry-after')).toBeNull();
        const requestId = res.headers.get('x-request-id');
        expect(requestId).toBeTruthy();
        const body = (await res.json()) as { code: string; detail: string };
        expect(body.code).toBe('INTERNAL_ERROR');
        expect(body.detail).toBe(`internal error; quote request id ${requestId}`);
        expect(body.detail).not.toMatch(/Code: |DB::Exception|nin_linkage/);
      } finally {
        await clickhouse.command({
          query: `RENAME TABLE ${db}.nin_linkage_events_v1_away TO ${db}.nin_linkage_events_v1`,
        });
      }
    } finally {
      await clickhouse.close();
    }
  });

  it('a store that refuses connections is a 503 with Retry-After', async () => {
    const ctx = h.resources.ctx as { clickhouse: ReturnType<typeof createClickHouse> };
    const real = ctx.clickhouse;
    const dead = createClickHouse({ ...h.config, CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    ctx.clickhouse = dead;
    try {
      const res = await linkages();
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        detail: 'the history store is unavailable; retry shortly',
      });
    } finally {
      ctx.clickhouse = real;
      await dead.close();
    }
    expect((await linkages()).status).toBe(404);
  });
});

describe('admin writes while Kafka is unreachable', () => {
  it('registering an organisation answers 503 with Retry-After, then works once Kafka is back', async () => {
    await h.organisation({ id: 'HUBU', name: 'Hub U', type: 'HUB' });
    const admin = await h.user('HUBU', 'Admin');
    const login = await h.login(admin.email, admin.password);
    const { access_token: token } = (await login.json()) as { access_token: string };
    // The security service's producer sends through a client whose broker connections are cut.
    const outage = kafkaOutage(h.config);
    const producer = createProducer(outage.kafka);
    await producer.connect();
    const service = h.resources.ctx.security as unknown as { producer: Producer };
    const real = service.producer.send;
    service.producer.send = producer.send;
    const register = (id: string) =>
      h.call('POST', '/api/v1/organisations', {
        token,
        body: { id, name: `Bank ${id}`, type: 'SERVICE_PROVIDER' },
      });
    try {
      outage.cut();
      const res = await register('BANKDOWN');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        detail: 'the event store is unavailable; retry shortly',
      });
      outage.restore();
      expect((await register('BANKUP')).status).toBe(201);
    } finally {
      service.producer.send = real;
      await producer.disconnect();
    }
  }, 60_000);
});
