import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import { ANY_ROLE, requireAuth } from '@hub/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEnv } from '../../query-api/src/context.ts';
import { createHarness, type Harness } from './harness.ts';

/** Requests from 127.0.0.2 come through the trusted load balancer; from 127.0.0.1, from anyone. */
const PROXY = '127.0.0.2';
const STRANGER = '127.0.0.1';

let h: Harness;
let server: ServerType;
let port: number;

function post(
  from: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...headers,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** A session without a login, so these tests leave the in-process address's login window alone. */
async function sessionOf(role: 'Admin' | 'Analyst'): Promise<string> {
  const u = await h.user('HUB', role);
  return (await h.resources.ctx.security.sessions.issue({ id: u.id, organisationId: 'HUB', role }))
    .access_token;
}

const login = (from: string, email: string, password: string, forwardedFor?: string) =>
  post(
    from,
    '/api/v1/auth/login',
    { email, password },
    forwardedFor ? { 'x-forwarded-for': forwardedFor } : {},
  );

beforeAll(async () => {
  h = await createHarness(
    'proxies',
    { rateLimits: { general: { limit: 3, windowMs: 60_000 } } },
    { env: { TRUSTED_PROXIES: `${PROXY},10.0.0.0/8` }, history: false },
  );
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.close();
});

describe('login limits behind a load balancer', () => {
  it('counts each client behind a trusted proxy on its own (5 a minute per address)', async () => {
    const user = await h.user('HUB', 'Analyst');
    for (let i = 1; i <= 6; i++)
      expect((await login(PROXY, user.email, 'wrong', `198.51.100.${i}, 10.1.1.1`)).status).not.toBe(429);
    // One forwarded client, six attempts: the sixth is over its address's limit.
    const user2 = await h.user('HUB', 'Analyst');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await login(PROXY, user2.email, user2.password, '198.51.100.99')).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const user = await h.user('HUB', 'Analyst');
    const statuses: number[] = [];
    for (let i = 1; i <= 6; i++)
      statuses.push((await login(STRANGER, user.email, user.password, `203.0.113.${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
  });

  it('limits attempts per account as well: many addresses cannot share out guesses at one account', async () => {
    const user = await h.user('HUB', 'Analyst');
    const results: { status: number; retryAfter: unknown }[] = [];
    for (let i = 1; i <= 11; i++) {
      const res = await login(PROXY, user.email, user.password, `192.0.2.${i}`);
      results.push({ status: res.status, retryAfter: res.headers['retry-after'] });
    }
    expect(results.slice(0, 10).every((r) => r.status === 200)).toBe(true);
    expect(results[10]?.status).toBe(429);
    expect(Number(results[10]?.retryAfter)).toBeGreaterThan(0);
  });
});

describe('unknown paths', () => {
  it('are a 404, never a 429, however often they are asked for', async () => {
    const token = await sessionOf('Admin');
    for (const path of ['/api/v1/data-subject/no-such-thing', '/api/v1/no-such-route']) {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await h.call('GET', path, { token })).status);
      expect(new Set(statuses)).toEqual(new Set([404]));
      const anonymous: number[] = [];
      for (let i = 0; i < 12; i++) anonymous.push((await h.call('GET', path)).status);
      expect(new Set(anonymous)).toEqual(new Set([404]));
    }
  });

  it('a routed path still counts against its default scope (general: 3 a minute here)', async () => {
    const token = await sessionOf('Admin');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await h.call('GET', '/api/v1/organisations', { token })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('per-principal scopes declared by a route', () => {
  /** Data-subject routes as their builders declare them: auth check, then the route's own scope. */
  function dataSubjectApp() {
    const sec = h.resources.ctx.security;
    const app = new OpenAPIHono<ApiEnv>();
    app.use('/api/*', sec.middleware(h.resources.ctx.ingest.authenticate));
    const auth = requireAuth<ApiEnv>(h.resources.ctx.ingest, { roles: ANY_ROLE });
    app.get('/api/v1/data-subject/my-data', auth, sec.limit<ApiEnv>('ndprAccess'), (c) =>
      c.json({ ok: true }),
    );
    app.post('/api/v1/data-subject/delete-my-data', auth, sec.limit<ApiEnv>('ndprDeletion'), (c) =>
      c.json({ ok: true }),
    );
    return app;
  }

  it('counts NDPR access per authenticated principal (10 a minute), after the auth check', async () => {
    const app = dataSubjectApp();
    const [a, b] = [await sessionOf('Analyst'), await sessionOf('Analyst')];
    const get = (token?: string) =>
      app.request(
        '/api/v1/data-subject/my-data',
        token ? { headers: { authorization: `Bearer ${token}` } } : {},
      );
    // Unauthenticated callers get 401, and do not use up anyone's window.
    for (let i = 0; i < 12; i++) expect((await get()).status).toBe(401);
    const statuses: number[] = [];
    // The route's scope replaces the path's default (general is 3 a minute in this harness).
    for (let i = 0; i < 11; i++) statuses.push((await get(a)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    const refused = await get(a);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await get(b)).status).toBe(200);
  });

  it('counts NDPR deletion per principal at 2 an hour', async () => {
    const app = dataSubjectApp();
    const token = await sessionOf('Analyst');
    const del = () =>
      app.request('/api/v1/data-subject/delete-my-data', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    expect([(await del()).status, (await del()).status, (await del()).status]).toEqual([200, 200, 429]);
    const refused = await del();
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
  });
});
