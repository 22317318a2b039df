import { dropState } from '@hub/processors/rebuild/projection';
import { stateSlot } from '@hub/state/keys';
import { bucketMemory, bytesPerNumber } from '@hub/state/memory';
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
    await dropState(redis, packed);
  }
}

async function measure(redis: Redis, prefix: string, collect: Buffer[] | null): Promise<MemoryReport> {
  const m = await bucketMemory(redis, prefix, collect ? (values) => collect.push(...values) : undefined);
  return {
    numbers: m.numbers,
    buckets: m.buckets,
    listpackBuckets: m.listpackBuckets,
    bytesPerNumber: bytesPerNumber(m),
  };
}
