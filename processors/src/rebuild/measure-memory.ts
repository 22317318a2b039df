import { randomBytes } from 'node:crypto';
import { createRedis, loadConfig } from '@hub/infra';
import { encodeState } from '@hub/state/encoding';
import { stateSlot } from '@hub/state/keys';
import { bucketMemory } from '@hub/state/memory';
import { mulberry32 } from '@hub/state/random';
import { emptyRecord, type StateRecord } from '@hub/state/record';
import type { Redis } from 'ioredis';
import { dropState } from './projection.ts';

/**
 * Measures what the state projection costs in Redis per number, with MEMORY USAGE over every bucket
 * of a synthetic but realistic population, written under a throw-away key prefix and removed after.
 *
 *   tsx processors/src/rebuild/measure-memory.ts [numbers=100000] [density=0.5]
 *
 * density: share of the numbers in a 100-number bucket that the hub knows (Nigeria has ~220 M lines
 * in ~450 M allocated numbers, so about half). Prints one JSON line; `measureStateMemory` is the same
 * measurement for a benchmark.
 */

export interface MemoryReport {
  numbers: number;
  buckets: number;
  listpackBuckets: number;
  avgValueBytes: number;
  maxValueBytes: number;
  bytesPerNumber: number;
  hashMaxListpackValue: number;
}

/** A population mix: most numbers active with one NIN and one BVN, some recycled, some unknown to the operators. */
export function realisticRecord(rand: () => number): StateRecord {
  const hex = () => randomBytes(8).toString('hex');
  const day = (from: number, span: number) =>
    new Date(Date.UTC(2000, 0, 1) + Math.floor(from + rand() * span) * 86_400_000).toISOString().slice(0, 10);
  const offset = () => BigInt(Math.floor(rand() * 300_000_000));
  const masked = () => `*******${String(Math.floor(rand() * 10000)).padStart(4, '0')}`;
  const r = emptyRecord();
  const kind = rand();
  const ninToken = hex();
  r.version = 3 + Math.floor(rand() * 6);
  if (kind >= 0.1) {
    r.operator = ['MTN', 'AIRTEL', 'GLO', '9MOBILE'][Math.floor(rand() * 4)]!;
    r.telecomStatus = 'NORMAL';
    r.statusDate = day(7000, 2000);
    r.offsets.status = offset();
  }
  if (kind < 0.85) {
    r.nin.push({ token: ninToken, masked: masked(), linkDate: day(4000, 4000), unlinkedDate: null });
    r.bvn.push({
      token: hex(),
      masked: masked(),
      holderNinToken: ninToken,
      linkDate: day(4000, 4000),
      unlinkedDate: null,
    });
    r.offsets.nin = offset();
    r.offsets.bvn = offset();
  }
  if (kind >= 0.85 && kind < 0.97) {
    // Recycled: the old owner's pair cleared by a delink, the new owner's pair active.
    r.telecomStatus = 'REASSIGNED';
    r.lastChurnedDate = day(6000, 1000);
    r.lastReassignedDate = day(7000, 500);
    r.reassignmentDate = r.lastReassignedDate;
    r.recycleDates = [r.lastChurnedDate, r.lastReassignedDate];
    // Completed after the churn: clears the old owner's pair (linked before it), never the new one.
    r.completedDelinks = [{ date: day(7000, 0), scope: 'ALL' }];
    const old = hex();
    r.nin.push({ token: old, masked: masked(), linkDate: day(3000, 2000), unlinkedDate: null });
    r.nin.push({ token: ninToken, masked: masked(), linkDate: day(7600, 500), unlinkedDate: null });
    r.bvn.push({
      token: hex(),
      masked: masked(),
      holderNinToken: old,
      linkDate: day(3000, 2000),
      unlinkedDate: null,
    });
    r.offsets.nin = offset();
    r.offsets.bvn = offset();
    r.offsets.delink = offset();
  }
  if (kind >= 0.97) {
    r.telecomStatus = 'CHURNED';
    r.lastChurnedDate = r.statusDate;
    r.recycleDates = r.statusDate === null ? [] : [r.statusDate];
    r.nin.push({ token: ninToken, masked: masked(), linkDate: day(3000, 2000), unlinkedDate: null });
    r.openDelink = { requestId: crypto.randomUUID(), action: 'APPROVED' };
    r.offsets.nin = offset();
    r.offsets.delink = offset();
  }
  return r;
}

export async function measureStateMemory(
  redis: Redis,
  prefix: string,
  numbers: number,
  density = 0.5,
  seed = 1,
): Promise<MemoryReport> {
  const rand = mulberry32(seed);
  let written = 0;
  let valueBytes = 0;
  let maxValueBytes = 0;
  let candidate = 0;
  while (written < numbers) {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 5000 && written < numbers; candidate++) {
      if (rand() >= density) continue;
      const msisdn = `234803${String(candidate).padStart(7, '0')}`;
      const bytes = encodeState(realisticRecord(rand));
      const slot = stateSlot(prefix, msisdn);
      pipeline.hset(slot.key, slot.field, bytes);
      valueBytes += bytes.length;
      maxValueBytes = Math.max(maxValueBytes, bytes.length);
      written++;
      i++;
    }
    await pipeline.exec();
  }
  const memory = await bucketMemory(redis, prefix);
  const config = (await redis.config('GET', 'hash-max-listpack-value')) as string[];
  return {
    numbers: written,
    buckets: memory.buckets,
    listpackBuckets: memory.listpackBuckets,
    avgValueBytes: Math.round((valueBytes / written) * 10) / 10,
    maxValueBytes,
    bytesPerNumber: Math.round((memory.bytes / written) * 10) / 10,
    hashMaxListpackValue: Number(config[1]),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const numbers = Number(process.argv[2] ?? 100_000);
  const density = Number(process.argv[3] ?? 0.5);
  if (!Number.isInteger(numbers) || numbers < 1)
    throw new Error(`numbers must be a positive integer, got ${process.argv[2]}`);
  if (!(density > 0 && density <= 1)) throw new Error(`density must be in (0, 1], got ${process.argv[3]}`);
  const config = loadConfig();
  const redis = createRedis(config);
  const prefix = `${config.REDIS_KEY_PREFIX}measure-${randomBytes(4).toString('hex')}:`;
  try {
    const report = await measureStateMemory(redis, prefix, numbers, density);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await dropState(redis, prefix);
    await redis.quit();
  }
}
