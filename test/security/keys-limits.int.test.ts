import { type ServerType, serve } from '@hono/node-server';
import { SECURITY_HEADERS } from '@hub/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

const VERIFY = '/api/v1/phone/api/phone-numbers/verify';

let h: Harness;
let bankUser: { email: string; password: string };
let bankToken: string;
let otherBankToken: string;
let adminToken: string;

async function token(u: { email: string; password: string }): Promise<string> {
  const res = await h.login(u.email, u.password);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface IssuedKey {
  id: string;
  key: string;
  prefix: string;
  organisation: string;
  active: boolean;
}

beforeAll(async () => {
  h = await createHarness('keys', {
    rateLimits: { general: { limit: 20, windowMs: 60_000 }, verify: { limit: 20, windowMs: 60_000 } },
  });
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  await h.organisation({ id: 'BANKA', name: 'Bank A', type: 'SERVICE_PROVIDER' });
  await h.organisation({ id: 'BANKB', name: 'Bank B', type: 'SERVICE_PROVIDER' });
  await h.organisation({
    id: 'BIGBANK',
    name: 'Big Bank',
    type: 'SERVICE_PROVIDER',
    verifyPerMinute: 100_000,
  });
  bankUser = await h.user('BANKA', 'ServiceProvider');
  bankToken = await token(bankUser);
  otherBankToken = await token(await h.user('BANKB', 'ServiceProvider'));
  adminToken = await token(await h.user('HUB', 'Admin'));
});

afterAll(async () => {
  await h?.close();
});

const verify = (key: string) => h.call('POST', VERIFY, { token: key, body: { phoneNumber: '08031234567' } });

describe('API keys', () => {
  it('shows a new key once, lists it by prefix only, and the key verifies at once', async () => {
    const res = await h.call('POST', '/api/v1/api-keys', { token: bankToken, body: { name: 'prod' } });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as IssuedKey;
    expect(issued.key.startsWith(`${issued.prefix}_`)).toBe(true);
    expect(issued.organisation).toBe('BANKA');
    expect((await verify(issued.key)).status).toBe(200);
    const list = await (await h.call('GET', '/api/v1/api-keys', { token: bankToken })).text();
    expect(list).toContain(issued.prefix);
    expect(list).not.toContain(issued.key);
  });

  it('revokes with immediate effect, even with the key in the verify cache', async () => {
    const issued = (await (
      await h.call('POST', '/api/v1/api-keys', { token: bankToken, body: { name: 'to revoke' } })
    ).json()) as IssuedKey;
    expect((await verify(issued.key)).status).toBe(200);
    const res = await h.call('DELETE', `/api/v1/api-keys/${issued.id}`, { token: bankToken });
    expect(res.status).toBe(200);
    expect((await verify(issued.key)).status).toBe(401);
  });

  it('rotates with an overlap window: both keys work, then the old one stops', async () => {
    const old = (await (
      await h.call('POST', '/api/v1/api-keys', { token: bankToken, body: { name: 'rotating' } })
    ).json()) as IssuedKey;
    const res = await h.call('POST', `/api/v1/api-keys/${old.id}/rotate`, {
      token: bankToken,
      body: { overlapSeconds: 1 },
    });
    expect(res.status).toBe(201);
    const next = (await res.json()) as IssuedKey & { previous: { id: string; expiresAt: string } };
    expect(next.previous.id).toBe(old.id);
    expect((await verify(old.key)).status).toBe(200);
    expect((await verify(next.key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await verify(old.key)).status).toBe(401);
    expect((await verify(next.key)).status).toBe(200);
  });

  it("keeps organisations apart: another bank's key is absent, and a key cannot mint keys", async () => {
    const mine = (await (
      await h.call('POST', '/api/v1/api-keys', { token: bankToken, body: { name: 'mine' } })
    ).json()) as IssuedKey;
    expect((await h.call('DELETE', `/api/v1/api-keys/${mine.id}`, { token: otherBankToken })).status).toBe(
      404,
    );
    expect(
      (await h.call('POST', `/api/v1/api-keys/${mine.id}/rotate`, { token: otherBankToken })).status,
    ).toBe(404);
    expect(
      (await h.call('GET', '/api/v1/api-keys?organisation=BANKA', { token: otherBankToken })).status,
    ).toBe(403);
    expect((await h.call('POST', '/api/v1/api-keys', { token: mine.key, body: { name: 'x' } })).status).toBe(
      403,
    );
    // A hub Admin manages any organisation's keys.
    expect((await h.call('DELETE', `/api/v1/api-keys/${mine.id}`, { token: adminToken })).status).toBe(200);
  });

  it("keeps one bank's bulk verification results from another bank", async () => {
    const sec = h.resources.ctx.security;
    const a = (await sec.issueKey('system:test', 'BANKA', 'bulk')).key;
    const b = (await sec.issueKey('system:test', 'BANKB', 'bulk')).key;
    const bulk = await h.call('POST', `${VERIFY}/bulk`, {
      token: a,
      body: { phoneNumbers: ['08031234567'] },
    });
    expect(bulk.status).toBe(200);
    const { link } = (await bulk.json()) as { link: string };
    expect((await h.call('GET', link, { token: a })).status).toBe(200);
    expect((await h.call('GET', link, { token: b })).status).toBe(404);
  });
});

describe('rate limits', () => {
  it('lets exactly the limit through under 60 parallel requests, then 429 with Retry-After and RateLimit headers', async () => {
    // An organisation of its own, so the window starts at zero.
    await h.organisation({ id: 'BANKC', name: 'Bank C', type: 'SERVICE_PROVIDER' });
    const key = (await h.resources.ctx.security.issueKey('system:test', 'BANKC', 'load')).key;
    const responses = await Promise.all(Array.from({ length: 60 }, () => verify(key)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    const limited = responses.find((r) => r.status === 429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited?.headers.get('ratelimit-limit')).toBe('20');
    expect(limited?.headers.get('ratelimit-remaining')).toBe('0');
    const ok = responses.find((r) => r.status === 200);
    expect(Number(ok?.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
  });

  it("raises the verify limit to the organisation's plan", async () => {
    const key = (await h.resources.ctx.security.issueKey('system:test', 'BIGBANK', 'plan')).key;
    const statuses = (await Promise.all(Array.from({ length: 60 }, () => verify(key)))).map((r) => r.status);
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it('limits login attempts per client to 5 a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await h.login('nobody@test.local', 'x')).status);
    // The harness's earlier logins count too: at most five of them pass the limiter.
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});

describe('hardening', () => {
  it('answers 413 to a body over the limit and 400 to malformed JSON, without stack traces', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    const tooBig = await h.call('POST', '/api/v1/organisations', { token: adminToken, raw: big });
    expect(tooBig.status).toBe(413);
    const bad = await h.call('POST', '/api/v1/organisations', { token: adminToken, raw: '{"id": "X",' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toMatch(/at .*\.ts:\d+/);
  });

  it('sends security headers and no CORS headers', async () => {
    const res = await h.call('GET', '/api/v1/api-keys', {
      token: adminToken,
      headers: { origin: 'https://evil.example' },
    });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends the same headers when served by Node, where they bypass web Headers', async () => {
    await h.organisation({ id: 'BANKD', name: 'Bank D', type: 'SERVICE_PROVIDER' });
    const key = (await h.resources.ctx.security.issueKey('system:test', 'BANKD', 'node')).key;
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    try {
      const address = server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const call = () =>
        fetch(`${base}${VERIFY}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ phoneNumber: '08031234567' }),
        });
      const first = await call();
      expect(first.status).toBe(200);
      for (const [name, value] of SECURITY_HEADERS) expect(first.headers.get(name)).toBe(value);
      expect(first.headers.get('content-type')).toMatch(/^application\/json/);
      expect(first.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.headers.get('ratelimit-limit')).toBe('20');
      expect(first.headers.get('ratelimit-remaining')).toBe('19');
      expect(((await first.json()) as { data: { msisdn: string } }).data.msisdn).toBe('08031234567');
      const rest = await Promise.all(Array.from({ length: 20 }, call));
      const limited = rest.find((r) => r.status === 429);
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited?.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      await Promise.all(rest.map((r) => r.arrayBuffer()));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
