import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { deriveView, type StateView } from './derive.ts';
import { decodeState, StateEncodingError } from './encoding.ts';
import { rebuildingKey, stateSlot } from './keys.ts';
import type { StateRecord } from './record.ts';

export interface StoredState {
  msisdn: string;
  /** Null when the hub holds nothing about the number. */
  record: StateRecord | null;
  /** Exact stored bytes (null when absent), for compare-and-set writes. */
  bytes: Buffer | null;
  /**
   * Why the stored bytes could not be decoded (record is then null although bytes are not), or
   * null. A record written before a bound existed, or damaged, is reported rather than thrown, so
   * one number cannot fail a read of many.
   */
  unreadable: string | null;
}

/** A stored record that does not decode: the number must be rebuilt (processors rebuild). */
export class UnreadableStateError extends Error {
  override readonly name = 'UnreadableStateError';
  constructor(
    readonly msisdn: string,
    readonly reason: string,
  ) {
    super(`the stored state of ${msisdn} cannot be read: ${reason}`);
  }
}

/** The projection is being rebuilt: what it holds now is incomplete and must not be served. */
export class ProjectionUnavailableError extends Error {
  override readonly name = 'ProjectionUnavailableError';
}

/**
 * Reads many numbers in ONE round trip: an HGET (HMGET for several fields) per bucket touched. Results are
 * in the order of `msisdns` (duplicates allowed). With `servable`, the same round trip also checks
 * the rebuild marker and throws ProjectionUnavailableError while a rebuild runs.
 */
export async function readStored(
  redis: Redis,
  prefix: string,
  msisdns: readonly string[],
  options: { servable?: boolean } = {},
): Promise<StoredState[]> {
  if (msisdns.length === 0 && !options.servable) return [];
  const buckets = new Map<string, string[]>();
  const slots = msisdns.map((m) => stateSlot(prefix, m));
  for (const s of slots) {
    const fields = buckets.get(s.key);
    if (!fields) buckets.set(s.key, [s.field]);
    else if (!fields.includes(s.field)) fields.push(s.field);
  }
  const found = await sendReads(redis, buckets, options.servable ? rebuildingKey(prefix) : null);
  if (found === REBUILDING)
    throw new ProjectionUnavailableError('the state projection is being rebuilt from Kafka');
  return msisdns.map((msisdn, j) => {
    const s = slots[j]!;
    const bytes = found.get(s.key)?.get(s.field) ?? null;
    if (!bytes) return { msisdn, bytes, record: null, unreadable: null };
    try {
      return { msisdn, bytes, record: decodeState(bytes), unreadable: null };
    } catch (err) {
      if (!(err instanceof StateEncodingError)) throw err;
      return { msisdn, bytes, record: null, unreadable: err.message };
    }
  });
}

type Reply = [Error | null, unknown];

/** Stored bytes by bucket key, then field. */
type Found = Map<string, Map<string, Buffer | null>>;

const REBUILDING = Symbol('rebuilding');

/** From this many buckets on, one explicit pipeline costs less than commands queued one by one. */
const PIPELINE_FROM = 16;

/**
 * The rebuild marker (KEYS[1]) and one field of a bucket per further key (KEYS[i], ARGV[i - 1]),
 * as ONE command: 1 while the marker exists (nothing else is read), else the fields' values in
 * order (nil for an absent one). The same check, in the same order, as EXISTS followed by the
 * HGETs, for a command less per request.
 */
const READ_SERVABLE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
local values = {}
for i = 2, #KEYS do values[i - 1] = redis.call('HGET', KEYS[i], ARGV[i - 1]) end
return values
`;

const READ_SERVABLE_SHA = createHash('sha1').update(READ_SERVABLE).digest('hex');

/**
 * One field of a bucket per key (KEYS[i], ARGV[i]), as ONE command: the fields' values in order
 * (nil for an absent one). The HGETs of a many-number read, without a command per bucket.
 */
const READ_MANY = `
local values = {}
for i = 1, #KEYS do values[i] = redis.call('HGET', KEYS[i], ARGV[i]) end
return values
`;

const READ_MANY_SHA = createHash('sha1').update(READ_MANY).digest('hex');

/** Bucket fields per READ_MANY call: a few hundred kilobytes of reply at most. */
const READ_MANY_CHUNK = 1000;

/**
 * The script by its SHA, sent whole when Redis does not hold it yet (first use, or after a
 * restart or SCRIPT FLUSH). Plain EVALSHA/EVAL rather than a command defined on the client: a
 * defined command is missing from auto-pipelines the client built before it was defined.
 */
async function readServable(redis: Redis, keys: string[], fields: string[]): Promise<unknown> {
  return runScript(redis, READ_SERVABLE, READ_SERVABLE_SHA, keys, fields);
}

async function runScript(
  redis: Redis,
  script: string,
  sha: string,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const r = redis as Redis & ScriptCalls;
  try {
    return await r.evalshaBuffer(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return r.evalBuffer(script, keys.length, ...keys, ...args);
  }
}

/**
 * Many bucket fields without the rebuild marker (the state builder's and the rebuild's reads) on
 * one Redis: READ_MANY per READ_MANY_CHUNK fields instead of a command per bucket, which costs
 * the client a command object, its arguments and a reply each. Not on Redis Cluster, where a
 * script may only touch keys of one slot.
 */
async function readMany(redis: Redis, buckets: Map<string, string[]>): Promise<Found> {
  const keys: string[] = [];
  const fields: string[] = [];
  for (const [key, wanted] of buckets) {
    for (const f of wanted) {
      keys.push(key);
      fields.push(f);
    }
  }
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < keys.length; i += READ_MANY_CHUNK) {
    const end = Math.min(keys.length, i + READ_MANY_CHUNK);
    calls.push(runScript(redis, READ_MANY, READ_MANY_SHA, keys.slice(i, end), fields.slice(i, end)));
  }
  const replies = await Promise.all(calls);
  const found: Found = new Map();
  for (let c = 0; c < replies.length; c++) {
    const reply = replies[c];
    const base = c * READ_MANY_CHUNK;
    const n = Math.min(READ_MANY_CHUNK, keys.length - base);
    if (!Array.isArray(reply) || reply.length !== n) throw new Error('unexpected reply to the state read');
    for (let j = 0; j < n; j++) {
      const key = keys[base + j]!;
      let values = found.get(key);
      if (!values) {
        values = new Map();
        found.set(key, values);
      }
      values.set(fields[base + j]!, (reply[j] as Buffer | null) ?? null);
    }
  }
  return found;
}

/** Every ioredis command has a …Buffer form (Buffer replies); its typings leave out these two. */
interface ScriptCalls {
  evalshaBuffer(sha: string, numberOfKeys: number, ...keysThenArgs: string[]): Promise<unknown>;
  evalBuffer(script: string, numberOfKeys: number, ...keysThenArgs: string[]): Promise<unknown>;
}

/**
 * The reads, in one round trip. A few reads on a client with auto-pipelining go as commands
 * issued in the same tick: they leave in one write together with those of concurrent requests,
 * where an explicit pipeline would cost each request a write of its own; with the rebuild marker
 * to check (a servable read), marker and fields go as one script, except on Redis Cluster, where
 * a script may not touch keys of several slots. Many reads without the marker (the state builder,
 * the rebuild) on one Redis go as READ_MANY scripts. Many reads (a bulk request), or any on a client
 * without auto-pipelining, go as one explicit pipeline. A bucket asked for one field gets HGET,
 * whose reply is a bare string rather than an array.
 */
async function sendReads(
  redis: Redis,
  buckets: Map<string, string[]>,
  marker: string | null,
): Promise<Found | typeof REBUILDING> {
  const autoPipelined = redis.options.enableAutoPipelining && buckets.size < PIPELINE_FROM;
  if (!marker && !redis.isCluster && buckets.size >= PIPELINE_FROM) return readMany(redis, buckets);
  if (autoPipelined && marker && !redis.isCluster) {
    const keys = [marker];
    const fields: string[] = [];
    for (const [key, wanted] of buckets) {
      for (const f of wanted) {
        keys.push(key);
        fields.push(f);
      }
    }
    const reply = await readServable(redis, keys, fields);
    if (reply === 1) return REBUILDING;
    if (!Array.isArray(reply)) throw new Error('unexpected reply to the servable state read');
    const found: Found = new Map();
    for (let i = 1; i < keys.length; i++) {
      const key = keys[i]!;
      const values = found.get(key) ?? new Map<string, Buffer | null>();
      found.set(key, values);
      values.set(fields[i - 1]!, reply[i - 1] ?? null);
    }
    return found;
  }
  let replies: Reply[];
  if (!autoPipelined) {
    const pipeline = redis.pipeline();
    if (marker) pipeline.exists(marker);
    for (const [key, fields] of buckets) {
      if (fields.length === 1) pipeline.hgetBuffer(key, fields[0]!);
      else pipeline.hmgetBuffer(key, ...fields);
    }
    replies = ((await pipeline.exec()) ?? []) as Reply[];
  } else {
    const settle = (p: Promise<unknown>): Promise<Reply> =>
      p.then(
        (value) => [null, value],
        (err: Error) => [err, null],
      );
    const pending: Promise<Reply>[] = [];
    if (marker) pending.push(settle(redis.exists(marker)));
    for (const [key, fields] of buckets) {
      pending.push(
        settle(fields.length === 1 ? redis.hgetBuffer(key, fields[0]!) : redis.hmgetBuffer(key, ...fields)),
      );
    }
    replies = await Promise.all(pending);
  }
  let i = 0;
  if (marker) {
    const [err, rebuilding] = replies[i++] ?? [new Error('no reply for EXISTS')];
    if (err) throw err;
    if (rebuilding === 1) return REBUILDING;
  }
  const found: Found = new Map();
  for (const [key, fields] of buckets) {
    const reply = replies[i++];
    if (!reply) throw new Error(`no reply for HMGET ${key}`);
    const [err, values] = reply;
    if (err) throw err;
    const list = fields.length === 1 ? [values as Buffer | null] : (values as (Buffer | null)[]);
    found.set(key, new Map(fields.map((f, j) => [f, list[j] ?? null])));
  }
  return found;
}

export interface StateReading {
  msisdn: string;
  record: StateRecord | null;
  /** Derived view; null when nothing is known about the number. */
  view: StateView | null;
}

/**
 * What the query API uses: decoded records and the derived view, one round trip for all numbers.
 * Throws UnreadableStateError for a stored record that does not decode (rather than report the
 * number as unknown).
 */
export async function readState(
  redis: Redis,
  prefix: string,
  msisdns: readonly string[],
): Promise<StateReading[]> {
  const stored = await readStored(redis, prefix, msisdns, { servable: true });
  for (const s of stored) if (s.unreadable !== null) throw new UnreadableStateError(s.msisdn, s.unreadable);
  return stored.map(({ msisdn, record }) => ({
    msisdn,
    record,
    view: record ? deriveView(msisdn, record) : null,
  }));
}
