import type { Redis } from 'ioredis';

/**
 * Compare-and-set of one state field. KEYS[1] = bucket key; ARGV = field, '1' when a value was read
 * ('0' when the field was absent), the bytes read, the new bytes. Writes only when the stored bytes
 * are still the ones read; returns 1 on write, 0 on conflict. It touches only its own key, so it is
 * valid on Redis Cluster.
 */
export const CAS_SCRIPT = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  if current ~= ARGV[3] then return 0 end
elseif current then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
`;

export interface CasWrite {
  key: string;
  field: string;
  expected: Buffer | null;
  next: Buffer;
}

/** Runs compare-and-set writes in one pipeline of EVALSHA calls; loads the script when Redis lacks it. */
export class StateWriter {
  private sha: string | null = null;

  constructor(private readonly redis: Redis) {}

  /** For each write, true when it was applied, false when the stored bytes had changed. */
  async write(writes: readonly CasWrite[]): Promise<boolean[]> {
    const applied: boolean[] = new Array(writes.length).fill(false);
    let pending = writes.map((_, i) => i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const sha = this.sha ?? (await this.load());
      const pipeline = this.redis.pipeline();
      for (const i of pending) {
        const w = writes[i]!;
        pipeline.evalsha(sha, 1, w.key, w.field, w.expected ? '1' : '0', w.expected ?? '', w.next);
      }
      const replies = (await pipeline.exec()) ?? [];
      const retry: number[] = [];
      replies.forEach(([err, result], j) => {
        const i = pending[j]!;
        // NOSCRIPT: Redis restarted or dropped its script cache; the call did nothing, so load and retry.
        if (err?.message.startsWith('NOSCRIPT') && attempt < 2) retry.push(i);
        else if (err) throw new Error(`state write to ${writes[i]?.key} failed: ${err.message}`);
        else applied[i] = result === 1;
      });
      if (retry.length > 0) this.sha = null;
      pending = retry;
    }
    return applied;
  }

  private async load(): Promise<string> {
    this.sha = (await this.redis.script('LOAD', CAS_SCRIPT)) as string;
    return this.sha;
  }
}
