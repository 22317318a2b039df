import { stateKeyPattern, stateSlot } from '@hub/processors/state/keys';
import type { Redis } from 'ioredis';

export interface MemoryReport {
  numbers: number;
  buckets: number;
  listpackBuckets: number;
  bytesPerNumber: number;
}

export interface MemoryFigures {
  /** The state the builder wrote for the sample, as its numbers were drawn (sparse over the ranges). */
  sample: MemoryReport;
  /** The same records packed 50 to a 100-number bucket, as at national scale. */
  national: MemoryReport;
}

/**
 * Redis bytes per number (MEMORY USAGE of every state bucket over the numbers in them). The sample
 * draws its numbers at random over all operators' ranges, so almost every number has a bucket of
 * its own; nationally about half of all allocated numbers are live, so the same records are also
 * measured packed at that density under a throw-away prefix.
 */
export async function measureSampleMemory(redis: Redis, prefix: string): Promise<MemoryFigures> {
  const values: Buffer[] = [];
  const sample = await measure(redis, prefix, values);
  const packed = `${prefix}national:`;
  try {
    for (let i = 0; i < values.length; i += 5000) {
      const pipeline = redis.pipeline();
      values.slice(i, i + 5000).forEach((bytes, j) => {
        const n = i + j;
        const msisdn = `234803${String(Math.floor(n / 50)).padStart(5, '0')}${String((n % 50) * 2).padStart(2, '0')}`;
        const slot = stateSlot(packed, msisdn);
        pipeline.hset(slot.key, slot.field, bytes);
      });
      await pipeline.exec();
    }
    return { sample, national: await measure(redis, packed, null) };
  } finally {
    await unlinkPattern(redis, stateKeyPattern(packed));
  }
}

async function measure(redis: Redis, prefix: string, collect: Buffer[] | null): Promise<MemoryReport> {
  let total = 0;
  let buckets = 0;
  let listpack = 0;
  let numbers = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', stateKeyPattern(prefix), 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const k of keys) {
      pipeline.memory('USAGE', k, 'SAMPLES', 0);
      pipeline.object('ENCODING', k);
      if (collect) pipeline.hgetallBuffer(k);
      else pipeline.hlen(k);
    }
    const replies = (await pipeline.exec()) ?? [];
    for (let i = 0; i < replies.length; i += 3) {
      total += Number(replies[i]?.[1] ?? 0);
      if (replies[i + 1]?.[1] === 'listpack') listpack++;
      const third = replies[i + 2]?.[1];
      if (collect) {
        const fields = Object.values(third as Record<string, Buffer>);
        collect.push(...fields);
        numbers += fields.length;
      } else {
        numbers += Number(third ?? 0);
      }
      buckets++;
    }
  } while (cursor !== '0');
  return {
    numbers,
    buckets,
    listpackBuckets: listpack,
    bytesPerNumber: numbers === 0 ? 0 : Math.round((total / numbers) * 10) / 10,
  };
}

export async function unlinkPattern(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
