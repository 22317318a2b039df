import { OpenAPIHono } from '@hono/zod-openapi';
import { type IngestEnv, requireApiKey } from '@hub/ingest';
import { hashApiKey, Security } from '@hub/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

/**
 * What authentication costs a verify call, measured in-process: the same trivial handler with and
 * without the security middleware and the key check, sequentially, after a warm-up.
 */
const N = 2_000;
let h: Harness;
let key: string;

beforeAll(async () => {
  h = await createHarness('authcost', { rateLimits: { verify: { limit: 1_000_000, windowMs: 60_000 } } });
  key = await h.organisation({
    id: 'BANKA',
    name: 'Bank A',
    type: 'SERVICE_PROVIDER',
    verifyPerMinute: 1_000_000,
  });
});

afterAll(async () => {
  await h?.close();
});

async function perRequestMicros(
  app: OpenAPIHono<IngestEnv>,
  headers: Record<string, string>,
): Promise<number> {
  const path = '/api/v1/phone/api/phone-numbers/verify';
  for (let i = 0; i < 200; i++) await app.request(path, { method: 'POST', headers });
  const started = performance.now();
  for (let i = 0; i < N; i++) {
    const res = await app.request(path, { method: 'POST', headers });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
  }
  return ((performance.now() - started) * 1000) / N;
}

describe('cost of authentication on the verify path', () => {
  it('adds well under a millisecond per request with the key cached in-process', async () => {
    const sec = h.resources.ctx.security;
    const handler = (c: { json: (v: unknown) => Response }) => c.json({ ok: true });
    const bare = new OpenAPIHono<IngestEnv>();
    bare.post('/api/v1/phone/api/phone-numbers/verify', handler);
    const authOnly = new OpenAPIHono<IngestEnv>();
    authOnly.post(
      '/api/v1/phone/api/phone-numbers/verify',
      requireApiKey(h.resources.ctx.ingest, ['SERVICE_PROVIDER']),
      handler,
    );
    const full = new OpenAPIHono<IngestEnv>();
    full.use('/api/*', sec.middleware());
    full.post(
      '/api/v1/phone/api/phone-numbers/verify',
      requireApiKey(h.resources.ctx.ingest, ['SERVICE_PROVIDER']),
      handler,
    );
    const headers = { authorization: `Bearer ${key}` };

    const none = await perRequestMicros(bare, headers);
    const keyCheck = await perRequestMicros(authOnly, headers);
    const withLimits = await perRequestMicros(full, headers);

    // The uncached path: one Redis read per record (key, organisation).
    const cold = await Security.create(h.config, { cacheTtlMs: 0, project: false });
    const coldStarted = performance.now();
    for (let i = 0; i < 500; i++)
      if (!(await cold.authenticate(`Bearer ${key}`))) throw new Error('not found');
    const uncached = ((performance.now() - coldStarted) * 1000) / 500;
    await cold.close();

    const stats = sec.store.cacheStats;
    console.info(
      [
        `verify-path auth cost over ${N} sequential in-process requests (µs per request):`,
        `  no auth: ${none.toFixed(1)}`,
        `  key check (cached): ${keyCheck.toFixed(1)} (+${(keyCheck - none).toFixed(1)})`,
        `  key check + rate limit (a Redis call per lease, not per request): ${withLimits.toFixed(1)} (+${(withLimits - none).toFixed(1)})`,
        `  authenticate() without cache (Redis reads): ${uncached.toFixed(1)}`,
        `  cache hits ${stats.hits}, misses ${stats.misses}; key hash ${hashApiKey(key).slice(0, 8)}…`,
      ].join('\n'),
    );
    expect(keyCheck - none).toBeLessThan(1_000);
  });

  it('carries a revocation to another API instance within its projection lag', async () => {
    const sec = h.resources.ctx.security;
    const other = await Security.create(h.config);
    try {
      const issued = await sec.issueKey('system:test', 'BANKA', 'two instances');
      expect(await other.authenticate(`Bearer ${issued.key}`)).toBeTruthy();
      const started = performance.now();
      await sec.revokeKey('system:test', issued.record);
      let elapsed = 0;
      while (await other.authenticate(`Bearer ${issued.key}`)) {
        elapsed = performance.now() - started;
        if (elapsed > 10_000) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      elapsed = performance.now() - started;
      console.info(
        `revocation visible on a second instance after ${elapsed.toFixed(0)} ms (cache TTL bound 5000 ms)`,
      );
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await other.close();
    }
  });
});
