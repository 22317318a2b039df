import { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { securityKeys } from './keys.ts';
import { DEFAULT_RATE_LIMITS, type RateLimiter, type RateScope, rateScopeOf } from './rate-limit.ts';
import { RatePolicy } from './rate-policy.ts';
import type { AccountStore } from './store.ts';

/** The policy's routing decisions only: nothing here reaches the limiter or the store. */
function policy(): RatePolicy {
  return new RatePolicy(
    DEFAULT_RATE_LIMITS,
    {} as RateLimiter,
    {} as AccountStore,
    securityKeys('unit:'),
    () => {},
  );
}

/** An app whose middleware reports the default scope each request would count against. */
function appWith(p: RatePolicy) {
  const seen: (RateScope | null)[] = [];
  const app = new OpenAPIHono();
  app.use('/api/*', async (c, next) => {
    seen.push(p.defaultScope(c, rateScopeOf));
    await next();
  });
  const declared = p.limit('ndprAccess', () => 'test');
  // A declared limiter that lets everything through here: its own counting is not under test.
  app.get('/api/v1/data-subject/my-data', async (_c, next) => next(), declared);
  app.get('/api/v1/organisations', (c) => c.json({}));
  app.get('/api/v1/auth/me', (c) => c.json({}));
  const sub = new Hono();
  sub.onError((_e, c) => c.text('sub error', 500));
  sub.get(
    '/api/v1/sub/declared',
    p.limit('ndprDeletion', () => 'test'),
  );
  app.route('/', sub);
  return { app, seen };
}

describe('default rate scope of a request', () => {
  it('is none for a path no route serves, so the 404 answers it', async () => {
    const { app, seen } = appWith(policy());
    expect((await app.request('/api/v1/data-subject/no-such-thing')).status).toBe(404);
    expect((await app.request('/api/v1/nothing')).status).toBe(404);
    expect((await app.request('/api/v1/organisations', { method: 'DELETE' })).status).toBe(404);
    expect(seen).toEqual([null, null, null]);
  });

  it("is the path's scope for a routed request", async () => {
    const { app, seen } = appWith(policy());
    await app.request('/api/v1/organisations');
    await app.request('/api/v1/auth/me');
    expect(seen).toEqual(['general', 'auth']);
  });

  it('is none for a route that declares its own scope, also inside a mounted sub-app', async () => {
    const { app, seen } = appWith(policy());
    await app.request('/api/v1/data-subject/my-data');
    await app.request('/api/v1/sub/declared');
    expect(seen).toEqual([null, null]);
  });
});
