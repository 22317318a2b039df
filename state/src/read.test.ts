import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { encodeState } from './encoding.ts';
import { rebuildingKey, stateSlot } from './keys.ts';
import { ProjectionUnavailableError, readState, readStored } from './read.ts';
import { emptyRecord } from './record.ts';

const PREFIX = 't:';
const A = '2348031234567';
const B = '2348031234568';
const C = '2348039999999';

/** A Redis holding `hashes` and maybe the rebuild marker, answering what readStored sends and noting it. */
function fakeRedis(options: { rebuilding?: boolean; cluster?: boolean; scriptLoaded?: boolean }) {
  const stored = encodeState(emptyRecord());
  const hashes = new Map([[stateSlot(PREFIX, A).key, new Map([[stateSlot(PREFIX, A).field, stored]])]]);
  const sent: string[] = [];
  let loaded = options.scriptLoaded ?? true;
  const hget = (key: string, field: string) => hashes.get(key)?.get(field) ?? null;
  const marker = () => (options.rebuilding ? 1 : 0);
  const script = (n: number, args: string[]) => {
    const keys = args.slice(0, n);
    const fields = args.slice(n);
    if (keys[0] !== rebuildingKey(PREFIX)) throw new Error('marker is not KEYS[1]');
    return marker() === 1 ? 1 : keys.slice(1).map((k, i) => hget(k, fields[i]!));
  };
  const redis = {
    isCluster: options.cluster ?? false,
    options: { enableAutoPipelining: true },
    async exists(key: string) {
      sent.push('EXISTS');
      return key === rebuildingKey(PREFIX) ? marker() : 0;
    },
    async hgetBuffer(key: string, field: string) {
      sent.push('HGET');
      return hget(key, field);
    },
    async hmgetBuffer(key: string, ...fields: string[]) {
      sent.push('HMGET');
      return fields.map((f) => hget(key, f));
    },
    async evalshaBuffer(_sha: string, n: number, ...args: string[]) {
      sent.push('EVALSHA');
      if (!loaded) throw new Error('NOSCRIPT No matching script. Please use EVAL.');
      return script(n, args);
    },
    async evalBuffer(_lua: string, n: number, ...args: string[]) {
      sent.push('EVAL');
      loaded = true;
      return script(n, args);
    },
  };
  return { redis: redis as unknown as Redis, sent, stored };
}

describe('a servable state read', () => {
  it('checks the rebuild marker and reads the numbers in one command', async () => {
    const { redis, sent, stored } = fakeRedis({});
    const found = await readStored(redis, PREFIX, [A, C, A, B], { servable: true });
    expect(sent).toEqual(['EVALSHA']);
    expect(found.map((s) => s.bytes)).toEqual([stored, null, stored, null]);
    expect(found.map((s) => s.msisdn)).toEqual([A, C, A, B]);
    const [reading] = await readState(redis, PREFIX, [A]);
    expect(reading?.record).toEqual(emptyRecord());
  });

  it('throws ProjectionUnavailableError while a rebuild runs, also for no numbers', async () => {
    const { redis } = fakeRedis({ rebuilding: true });
    await expect(readState(redis, PREFIX, [A])).rejects.toBeInstanceOf(ProjectionUnavailableError);
    await expect(readState(redis, PREFIX, [])).rejects.toBeInstanceOf(ProjectionUnavailableError);
  });

  it('sends the script whole when Redis does not hold it', async () => {
    const { redis, sent, stored } = fakeRedis({ scriptLoaded: false });
    const [s] = await readStored(redis, PREFIX, [A], { servable: true });
    expect(s?.bytes).toEqual(stored);
    expect(sent).toEqual(['EVALSHA', 'EVAL']);
  });

  it('keeps EXISTS and HGET apart on Redis Cluster (a script may not touch several slots)', async () => {
    const { redis, sent, stored } = fakeRedis({ cluster: true });
    const [s] = await readStored(redis, PREFIX, [A], { servable: true });
    expect(s?.bytes).toEqual(stored);
    expect(sent).toEqual(['EXISTS', 'HGET']);
    const rebuilding = fakeRedis({ cluster: true, rebuilding: true }).redis;
    await expect(readState(rebuilding, PREFIX, [A])).rejects.toBeInstanceOf(ProjectionUnavailableError);
  });

  it('reads without the marker when not asked to serve', async () => {
    const { redis, sent } = fakeRedis({ rebuilding: true });
    const [s] = await readStored(redis, PREFIX, [A]);
    expect(s?.record).toEqual(emptyRecord());
    expect(sent).toEqual(['HGET']);
  });
});
