import { rebuildingKey } from '@hub/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';

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
