import { randomBytes } from 'node:crypto';
import { createRedis, loadConfig } from '@hub/infra';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CasWrite, StateWriter } from './cas.ts';
import { stateKeyPattern, stateSlot } from './keys.ts';
import { readStored } from './read.ts';

/**
 * The compare-and-set writes and the many-number reads against a real Redis, on a key prefix of
 * their own: more writes than one script call takes, numbers sharing a bucket, and every outcome
 * (absent and still absent, read and unchanged, read and changed since, absent and created since).
 */

let redis: Redis;
const prefix = `test-cas-${randomBytes(4).toString('hex')}:`;

beforeAll(() => {
  redis = createRedis(loadConfig({ ...process.env, LOG_LEVEL: 'error' }));
});

afterAll(async () => {
  const keys = await redis.keys(stateKeyPattern(prefix));
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** 1,300 numbers, ten to a bucket. */
const numbers = Array.from(
  { length: 1300 },
  (_, i) => `234803${String(1_000_000 + i * 10).slice(0, 5)}${String(i % 10).padStart(2, '0')}`,
);

describe('state compare-and-set writes', () => {
  it('applies exactly the writes whose stored bytes are still the ones read, across many script calls', async () => {
    expect(new Set(numbers).size).toBe(numbers.length);
    const writer = new StateWriter(redis);
    const first = numbers.map(
      (m, i): CasWrite => ({ ...stateSlot(prefix, m), expected: null, next: Buffer.from(`v1-${i}`) }),
    );
    expect(await writer.write(first)).toEqual(numbers.map(() => true));

    // Someone else changes every third number in between.
    for (let i = 0; i < numbers.length; i += 3) {
      const s = stateSlot(prefix, numbers[i]!);
      await redis.hset(s.key, s.field, `other-${i}`);
    }
    const second = numbers.map(
      (m, i): CasWrite => ({
        ...stateSlot(prefix, m),
        // Odd numbers claim, wrongly, that nothing was stored.
        expected: i % 2 === 1 ? null : Buffer.from(`v1-${i}`),
        next: Buffer.from(`v2-${i}`),
      }),
    );
    const applied = await writer.write(second);
    expect(applied).toEqual(numbers.map((_, i) => i % 3 !== 0 && i % 2 === 0));

    const stored = await readStored(redis, prefix, numbers);
    stored.forEach((s, i) => {
      const expected = i % 3 === 0 ? `other-${i}` : i % 2 === 0 ? `v2-${i}` : `v1-${i}`;
      expect(s.msisdn).toBe(numbers[i]);
      expect(s.bytes?.toString()).toBe(expected);
    });
  });

  it('reads many numbers, absent ones and repeats included, in the order asked', async () => {
    const absent = numbers.map((m) => `${m.slice(0, 6)}9${m.slice(7)}`);
    const asked = [...numbers.slice(0, 40), ...absent.slice(0, 40), numbers[5]!, absent[5]!];
    const stored = await readStored(redis, prefix, asked);
    expect(stored.map((s) => s.msisdn)).toEqual(asked);
    for (const s of stored.slice(40, 80)) expect(s.bytes).toBeNull();
    expect(stored[80]!.bytes).toEqual(stored[5]!.bytes);
    expect(stored[81]!.bytes).toBeNull();
  });
});
