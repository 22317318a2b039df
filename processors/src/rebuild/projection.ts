import { createHash } from 'node:crypto';
import { stateKeyPattern } from '@hub/state/keys';
import type { Redis } from 'ioredis';

export interface StateChecksum {
  /** Number of state records (hash fields) seen. */
  records: number;
  /** Sum modulo 2^64 of a SHA-256 prefix of each key/field/value triple: independent of order. */
  digest: string;
}

const MOD = 1n << 64n;

/** Walks every state bucket under the prefix with SCAN and checksums its fields. */
export async function checksumState(redis: Redis, redisKeyPrefix: string): Promise<StateChecksum> {
  let sum = 0n;
  let records = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', stateKeyPattern(redisKeyPrefix), 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.hgetallBuffer(key);
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([err, value], i) => {
      if (err) throw err;
      const key = keys[i]!;
      for (const [field, bytes] of Object.entries(value as Record<string, Buffer>)) {
        const h = createHash('sha256');
        // Length-prefixed parts, so ("ab","c") and ("a","bc") cannot collide.
        for (const part of [Buffer.from(key), Buffer.from(field), bytes]) {
          const len = Buffer.allocUnsafe(4);
          len.writeUInt32BE(part.length);
          h.update(len).update(part);
        }
        sum = (sum + h.digest().readBigUInt64BE(0)) % MOD;
        records++;
      }
    });
  } while (cursor !== '0');
  return { records, digest: sum.toString(16).padStart(16, '0') };
}

/** Deletes every state bucket under the prefix (SCAN + UNLINK), nothing else. Returns the key count. */
export async function dropState(redis: Redis, redisKeyPrefix: string): Promise<number> {
  let cursor = '0';
  let dropped = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', stateKeyPattern(redisKeyPrefix), 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) dropped += await redis.unlink(...keys);
  } while (cursor !== '0');
  return dropped;
}
