import type { Redis } from 'ioredis';
import { stateKeyPattern } from './keys.ts';

export interface BucketMemory {
  /** State records (hash fields) found. */
  numbers: number;
  buckets: number;
  /** Buckets still in Redis's compact listpack encoding. */
  listpackBuckets: number;
  /** MEMORY USAGE summed over every bucket: all overhead included. */
  bytes: number;
}

/**
 * What the state projection under a prefix costs Redis: MEMORY USAGE of every bucket (SCAN, one
 * pipeline per page). `onValues` receives each bucket's record bytes, for callers that re-pack them.
 */
export async function bucketMemory(
  redis: Redis,
  prefix: string,
  onValues?: (values: Buffer[]) => void,
): Promise<BucketMemory> {
  const found: BucketMemory = { numbers: 0, buckets: 0, listpackBuckets: 0, bytes: 0 };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', stateKeyPattern(prefix), 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const k of keys) {
      pipeline.memory('USAGE', k, 'SAMPLES', 0);
      pipeline.object('ENCODING', k);
      if (onValues) pipeline.hgetallBuffer(k);
      else pipeline.hlen(k);
    }
    const replies = (await pipeline.exec()) ?? [];
    for (let i = 0; i < replies.length; i += 3) {
      found.bytes += Number(replies[i]?.[1] ?? 0);
      if (replies[i + 1]?.[1] === 'listpack') found.listpackBuckets++;
      const third = replies[i + 2]?.[1];
      if (onValues) {
        const values = Object.values(third as Record<string, Buffer>);
        onValues(values);
        found.numbers += values.length;
      } else {
        found.numbers += Number(third ?? 0);
      }
      found.buckets++;
    }
  } while (cursor !== '0');
  return found;
}

/** Bytes per number to one decimal; 0 for an empty projection. */
export const bytesPerNumber = (m: BucketMemory): number =>
  m.numbers === 0 ? 0 : Math.round((m.bytes / m.numbers) * 10) / 10;
