import type { Redis } from 'ioredis';
import { deriveView, type StateView } from '../derive.ts';
import { decodeState } from '../encoding.ts';
import { msisdnOfSlot, stateKeyPattern } from '../keys.ts';
import { hasStaleLinkage } from './stale.ts';

export interface ScanProgress {
  /** Numbers read so far. */
  scanned: number;
  /** Records that could not be decoded (left to the rebuild tool). */
  unreadable: number;
}

/**
 * Every stored number with a stale linkage, found by one pass over the state buckets: SCAN of the
 * bucket keys, HGETALL of each page's buckets in one pipeline, each record decoded and tested
 * (hasStaleLinkage, without deriving the full view unless it is a candidate). `onFound` gets each
 * page's finds; `onProgress` the running counts. A SCAN may return a key twice: callers dedupe.
 */
export async function scanStaleNumbers(
  redis: Redis,
  redisKeyPrefix: string,
  onFound: (views: StateView[]) => Promise<void>,
  onProgress: (p: ScanProgress) => Promise<void> | void = () => {},
  options: { count?: number; shouldStop?: () => boolean } = {},
): Promise<ScanProgress> {
  const progress: ScanProgress = { scanned: 0, unreadable: 0 };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      stateKeyPattern(redisKeyPrefix),
      'COUNT',
      options.count ?? 1000,
    );
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.hgetallBuffer(k);
    const replies = (await pipeline.exec()) ?? [];
    const found: StateView[] = [];
    replies.forEach(([err, value], i) => {
      if (err) throw err;
      const key = keys[i]!;
      for (const [field, bytes] of Object.entries(value as Record<string, Buffer>)) {
        progress.scanned++;
        let record: ReturnType<typeof decodeState>;
        try {
          record = decodeState(bytes);
        } catch {
          progress.unreadable++;
          continue;
        }
        if (hasStaleLinkage(record)) found.push(deriveView(msisdnOfSlot(redisKeyPrefix, key, field), record));
      }
    });
    if (found.length > 0) await onFound(found);
    await onProgress(progress);
  } while (cursor !== '0' && !options.shouldStop?.());
  return progress;
}
