import { createRedis } from '@hub/infra';
import { RateLimiter } from '@hub/security';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/stack.ts';

const config = testConfig('ratelimit');
let redisA: Redis;
let redisB: Redis;

beforeAll(() => {
  // Two clients and two limiters: two API processes sharing one window.
  redisA = createRedis(config, { enableAutoPipelining: true });
  redisB = createRedis(config, { enableAutoPipelining: true });
});

afterAll(async () => {
  const keys = await redisA.keys(`${config.REDIS_KEY_PREFIX}*`);
  if (keys.length > 0) await redisA.del(...keys);
  redisA.disconnect();
  redisB.disconnect();
});

/** Counts the Redis commands a client sends. */
function counting(redis: Redis): { calls: () => number } {
  let calls = 0;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    calls++;
    return send(...args);
  }) as Redis['sendCommand'];
  return { calls: () => calls };
}

describe('leased rate limiter', () => {
  it('counts every hit in Redis for a small limit: exactly the limit passes, in order', async () => {
    const limiter = new RateLimiter(redisA);
    const key = `${config.REDIS_KEY_PREFIX}rl:small`;
    const results = await Promise.all(Array.from({ length: 12 }, () => limiter.hit(key, 5, 60_000)));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    expect(results.filter((r) => !r.allowed).every((r) => r.remaining === 0)).toBe(true);
    expect(Number(await redisA.get(key))).toBe(5);
    expect(results.every((r) => r.resetMs > 0 && r.resetMs <= 60_000)).toBe(true);
  });

  it('admits no more than the limit across two processes and loses at most their last leases', async () => {
    const limit = 6_400; // leases grow to 100 hits
    const key = `${config.REDIS_KEY_PREFIX}rl:shared`;
    const a = new RateLimiter(redisA);
    const b = new RateLimiter(redisB);
    const calls = counting(redisA);
    let admitted = 0;
    let refused = 0;
    for (let round = 0; round < 40; round++) {
      const results = await Promise.all(
        Array.from({ length: 250 }, (_, i) => (i % 2 === 0 ? a : b).hit(key, limit, 60_000)),
      );
      for (const r of results)
        if (r.allowed) admitted++;
        else refused++;
    }
    expect(admitted + refused).toBe(10_000);
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit - 2 * 100);
    expect(Number(await redisA.get(key))).toBeLessThanOrEqual(limit + 2 * 100);
    // One Redis call per lease, not per hit.
    expect(calls.calls()).toBeLessThan(200);
  });

  it('starts a new window when the old one expires', async () => {
    const limiter = new RateLimiter(redisA);
    const key = `${config.REDIS_KEY_PREFIX}rl:window`;
    expect((await limiter.hit(key, 1, 200)).allowed).toBe(true);
    expect((await limiter.hit(key, 1, 200)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect((await limiter.hit(key, 1, 200)).allowed).toBe(true);
  });
});
