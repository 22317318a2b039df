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

/**
 * CAS_SCRIPT for many fields in one command: KEYS[i] with ARGV[4i-3..4i] (field, '1'/'0', bytes
 * read, new bytes), each compared and set on its own exactly as CAS_SCRIPT does; returns the 1/0
 * of each in order. For one Redis only: on Redis Cluster a script may not touch several slots.
 */
export const CAS_MANY_SCRIPT = `
local applied = {}
for i = 1, #KEYS do
  local a = (i - 1) * 4
  local current = redis.call('HGET', KEYS[i], ARGV[a + 1])
  local ok = 1
  if ARGV[a + 2] == '1' then
    if current ~= ARGV[a + 3] then ok = 0 end
  elseif current then
    ok = 0
  end
  if ok == 1 then redis.call('HSET', KEYS[i], ARGV[a + 1], ARGV[a + 4]) end
  applied[i] = ok
end
return applied
`;

/** Writes per CAS_MANY_SCRIPT call: a few hundred kilobytes of arguments at most. */
const CAS_MANY_CHUNK = 500;

export interface CasWrite {
  key: string;
  field: string;
  expected: Buffer | null;
  next: Buffer;
}

type Reply = [Error | null, unknown];

/**
 * Runs compare-and-set writes in one pipeline: on one Redis, CAS_MANY_SCRIPT calls of up to
 * CAS_MANY_CHUNK writes each (a command object, its arguments and a reply per write cost the
 * client more than the write costs Redis); on Redis Cluster, one CAS_SCRIPT call per write. Loads
 * the scripts when Redis lacks them.
 */
export class StateWriter {
  private readonly shas = new Map<string, string>();

  constructor(private readonly redis: Redis) {}

  /** For each write, true when it was applied, false when the stored bytes had changed. */
  async write(writes: readonly CasWrite[]): Promise<boolean[]> {
    const applied: boolean[] = new Array(writes.length).fill(false);
    const many = !this.redis.isCluster;
    const script = many ? CAS_MANY_SCRIPT : CAS_SCRIPT;
    const size = many ? CAS_MANY_CHUNK : 1;
    // Chunks by their first write's index; each chunk is one script call.
    let pending: number[] = [];
    for (let i = 0; i < writes.length; i += size) pending.push(i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const sha = this.shas.get(script) ?? (await this.load(script));
      const pipeline = this.redis.pipeline();
      for (const start of pending) {
        const end = Math.min(writes.length, start + size);
        const args: (string | Buffer)[] = [sha, String(end - start)];
        for (let i = start; i < end; i++) args.push(writes[i]!.key);
        for (let i = start; i < end; i++) {
          const w = writes[i]!;
          args.push(w.field, w.expected ? '1' : '0', w.expected ?? '', w.next);
        }
        pipeline.call('EVALSHA', args);
      }
      const replies = ((await pipeline.exec()) ?? []) as Reply[];
      const retry: number[] = [];
      replies.forEach(([err, result], j) => {
        const start = pending[j]!;
        const end = Math.min(writes.length, start + size);
        // NOSCRIPT: Redis restarted or dropped its script cache; the call did nothing, so load and retry.
        if (err?.message.startsWith('NOSCRIPT') && attempt < 2) {
          retry.push(start);
          return;
        }
        if (err) throw new Error(`state write to ${writes[start]?.key} failed: ${err.message}`);
        if (!many) {
          applied[start] = result === 1;
          return;
        }
        if (!Array.isArray(result) || result.length !== end - start) {
          throw new Error(`unexpected reply to the state write of ${end - start} records`);
        }
        for (let i = start; i < end; i++) applied[i] = result[i - start] === 1;
      });
      if (retry.length > 0) this.shas.delete(script);
      pending = retry;
    }
    return applied;
  }

  private async load(script: string): Promise<string> {
    const sha = (await this.redis.script('LOAD', script)) as string;
    this.shas.set(script, sha);
    return sha;
  }
}
