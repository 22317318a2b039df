import type { DelinkEvent, RecycledSimEvent } from '@hub/schemas';
import type { Redis } from 'ioredis';
import {
  applyDelinkEvent,
  applySimEvent,
  type DelinkRequestDoc,
  type DelinkState,
  isOpen,
  type RecycledSimDoc,
  type RegistryCleanupStatus,
} from './model.ts';

/**
 * Redis key shapes of the workflow read model. Every key carries the `{wf}` hash tag, so on Redis
 * Cluster they share one slot and the projector's MULTI (documents, indexes and its cursor) stays
 * atomic. The workflow is small next to the state projection (requests are made by people), and
 * the registry holds only recycled numbers.
 */
export function workflowKeys(redisKeyPrefix: string) {
  const base = `${redisKeyPrefix}{wf}:`;
  return {
    request: (id: string) => `${base}req:${id}`,
    /** ZSET of every request id, scored by creation time. */
    requests: `${base}reqs`,
    /** SET of the request ids of one number. */
    requestsOf: (msisdn: string) => `${base}reqs-of:${msisdn}`,
    /** ZSET of the ids of requests not yet REJECTED, COMPLETED or CANCELLED (the confirmer's sweep). */
    open: `${base}open`,
    sim: (id: string) => `${base}sim:${id}`,
    /** ZSET of every registry id, scored by when the number was first registered or detected. */
    sims: `${base}sims`,
    simsWithStatus: (status: RegistryCleanupStatus) => `${base}sims:${status}`,
    /** HASH `<topic>:<partition>` → offset of the last record the projector applied. */
    cursor: `${base}cursor`,
    /** What the projector did with one event ('applied' or why not), for a writer waiting on it. */
    seen: (eventId: string) => `${base}seen:${eventId}`,
    job: (id: string) => `${base}job:${id}`,
    /** SCAN pattern of every workflow key under the prefix (a rebuild drops them). */
    all: `${base.replace(/[*?[\]\\]/g, '\\$&')}*`,
  };
}

export type WorkflowKeys = ReturnType<typeof workflowKeys>;

export type WorkflowRecord =
  | { kind: 'delink'; offset: string; event: DelinkEvent }
  | { kind: 'recycled-sim'; offset: string; event: RecycledSimEvent };

/** How long a writer can learn what became of its event. */
const SEEN_TTL_SECONDS = 3600;

const parse = <T>(raw: string | null): T | null => (raw === null ? null : (JSON.parse(raw) as T));

/**
 * Applies one partition chunk of the delink or recycled-SIMs topic to the read model, in offset
 * order, in one MULTI with the partition's cursor: a record at or below the cursor was applied
 * before (a redelivery after a crash) and is skipped, so replays are no-ops. One projector owns a
 * partition at a time (consumer group), so reads before the MULTI are not raced by another writer.
 * Returns what happened to each event.
 */
export async function projectWorkflow(
  redis: Redis,
  keys: WorkflowKeys,
  topic: string,
  partition: number,
  records: readonly WorkflowRecord[],
): Promise<{ eventId: string; outcome: string }[]> {
  const cursorField = `${topic}:${partition}`;
  const cursorRaw = await redis.hget(keys.cursor, cursorField);
  const cursor = cursorRaw === null ? -1n : BigInt(cursorRaw);
  const fresh = records.filter((r) => BigInt(r.offset) > cursor);
  if (fresh.length === 0) return [];

  const requests = new Map<string, DelinkRequestDoc | null>();
  const sims = new Map<string, RecycledSimDoc | null>();
  const ofNumber = new Map<string, Set<string>>();
  const touchedRequests = new Set<string>();
  const touchedSims = new Map<string, RegistryCleanupStatus | null>();

  async function loadNumber(msisdn: string): Promise<Set<string>> {
    let ids = ofNumber.get(msisdn);
    if (!ids) {
      ids = new Set(await redis.smembers(keys.requestsOf(msisdn)));
      ofNumber.set(msisdn, ids);
      const missing = [...ids].filter((id) => !requests.has(id));
      if (missing.length > 0) {
        const raws = await redis.mget(...missing.map(keys.request));
        missing.forEach((id, i) => {
          requests.set(id, parse<DelinkRequestDoc>(raws[i] ?? null));
        });
      }
    }
    return ids;
  }
  async function loadSim(id: string): Promise<RecycledSimDoc | null> {
    if (!sims.has(id)) sims.set(id, parse<RecycledSimDoc>(await redis.get(keys.sim(id))));
    return sims.get(id) ?? null;
  }

  const outcomes: { eventId: string; outcome: string }[] = [];
  for (const r of fresh) {
    if (r.kind === 'delink') {
      const e = r.event;
      const ids = await loadNumber(e.msisdn);
      if (!requests.has(e.requestId)) {
        requests.set(e.requestId, parse<DelinkRequestDoc>(await redis.get(keys.request(e.requestId))));
      }
      const doc = requests.get(e.requestId) ?? null;
      const others = [...ids].filter((id) => id !== e.requestId).map((id) => requests.get(id));
      const out = applyDelinkEvent(
        doc,
        e,
        others.filter((d): d is DelinkRequestDoc => d !== null && d !== undefined),
      );
      if (out.applied) {
        requests.set(e.requestId, out.doc);
        ids.add(e.requestId);
        touchedRequests.add(e.requestId);
      }
      outcomes.push({ eventId: e.eventId, outcome: out.applied ? 'applied' : out.reason });
    } else {
      const e = r.event;
      const before = await loadSim(e.simId);
      const out = applySimEvent(before, e);
      if (out.applied) {
        if (!touchedSims.has(e.simId)) touchedSims.set(e.simId, before?.cleanupStatus ?? null);
        sims.set(e.simId, out.doc);
      }
      outcomes.push({ eventId: e.eventId, outcome: out.applied ? 'applied' : out.reason });
    }
  }

  const tx = redis.multi();
  for (const id of touchedRequests) {
    const doc = requests.get(id)!;
    tx.set(keys.request(id), JSON.stringify(doc));
    tx.zadd(keys.requests, doc.createdAt, id);
    tx.sadd(keys.requestsOf(doc.msisdn), id);
    if (isOpen(doc.status)) tx.zadd(keys.open, doc.createdAt, id);
    else tx.zrem(keys.open, id);
  }
  for (const [id, was] of touchedSims) {
    const doc = sims.get(id)!;
    tx.set(keys.sim(id), JSON.stringify(doc));
    tx.zadd(keys.sims, doc.firstSeenAt, id);
    if (was !== null && was !== doc.cleanupStatus) tx.zrem(keys.simsWithStatus(was), id);
    tx.zadd(keys.simsWithStatus(doc.cleanupStatus), doc.firstSeenAt, id);
  }
  for (const o of outcomes) tx.set(keys.seen(o.eventId), o.outcome, 'EX', SEEN_TTL_SECONDS);
  tx.hset(keys.cursor, cursorField, fresh[fresh.length - 1]!.offset);
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err);
  if (!replies || failed)
    throw new Error(`workflow projection write failed: ${failed?.[0]?.message ?? 'aborted'}`);
  return outcomes;
}

/** What the projector did with `eventId` ('applied' or its reason), waiting up to `timeoutMs`; null: not yet. */
export async function waitForProjection(
  redis: Redis,
  keys: WorkflowKeys,
  eventId: string,
  timeoutMs: number,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; ; pause = Math.min(50, pause * 2)) {
    const seen = await redis.get(keys.seen(eventId));
    if (seen !== null) return seen;
    if (Date.now() >= deadline) return null;
    await new Promise((r) => setTimeout(r, pause));
  }
}

export async function readRequests(redis: Redis, keys: WorkflowKeys, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const raws = await redis.mget(...ids.map(keys.request));
  return raws.map((r) => parse<DelinkRequestDoc>(r ?? null));
}

export async function readRequest(redis: Redis, keys: WorkflowKeys, id: string) {
  return parse<DelinkRequestDoc>(await redis.get(keys.request(id)));
}

export async function requestsOfNumber(redis: Redis, keys: WorkflowKeys, msisdn: string) {
  const ids = await redis.smembers(keys.requestsOf(msisdn));
  const docs = await readRequests(redis, keys, ids);
  return docs.filter((d): d is DelinkRequestDoc => d !== null).sort((a, b) => a.createdAt - b.createdAt);
}

export async function readSim(redis: Redis, keys: WorkflowKeys, id: string) {
  return parse<RecycledSimDoc>(await redis.get(keys.sim(id)));
}

export async function readSims(redis: Redis, keys: WorkflowKeys, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const raws = await redis.mget(...ids.map(keys.sim));
  return raws.map((r) => parse<RecycledSimDoc>(r ?? null));
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** Pages through an index newest first, keeping the documents `keep` accepts; unfiltered: one ZRANGE. */
async function pageOf<T>(
  redis: Redis,
  index: string,
  read: (ids: string[]) => Promise<(T | null)[]>,
  keep: ((d: T) => boolean) | null,
  skip: number,
  limit: number,
): Promise<Page<T>> {
  if (!keep) {
    const [total, ids] = await Promise.all([
      redis.zcard(index),
      redis.zrevrange(index, skip, skip + limit - 1),
    ]);
    const docs = await read(ids);
    return { total, items: docs.filter((d): d is T => d !== null) };
  }
  const items: T[] = [];
  let total = 0;
  const CHUNK = 500;
  for (let start = 0; ; start += CHUNK) {
    const ids = await redis.zrevrange(index, start, start + CHUNK - 1);
    if (ids.length === 0) break;
    for (const d of await read(ids)) {
      if (d === null || !keep(d)) continue;
      if (total >= skip && items.length < limit) items.push(d);
      total++;
    }
  }
  return { items, total };
}

export interface RequestFilter {
  status?: DelinkState;
  msisdn?: string;
  operator?: string;
  /** Epoch ms, inclusive. */
  createdFrom?: number;
  createdTo?: number;
}

export function listRequests(
  redis: Redis,
  keys: WorkflowKeys,
  f: RequestFilter,
  skip: number,
  limit: number,
): Promise<Page<DelinkRequestDoc>> {
  const filtered = Object.values(f).some((v) => v !== undefined);
  const keep = filtered
    ? (d: DelinkRequestDoc) =>
        (f.status === undefined || d.status === f.status) &&
        (f.msisdn === undefined || d.msisdn === f.msisdn) &&
        (f.operator === undefined || d.operator === f.operator) &&
        (f.createdFrom === undefined || d.createdAt >= f.createdFrom) &&
        (f.createdTo === undefined || d.createdAt <= f.createdTo)
    : null;
  const index = f.msisdn === undefined ? keys.requests : null;
  if (index === null) {
    // One number's requests: its own set, sorted newest first.
    return requestsOfNumber(redis, keys, f.msisdn!).then((docs) => {
      const all = docs.filter((d) => keep!(d)).reverse();
      return { total: all.length, items: all.slice(skip, skip + limit) };
    });
  }
  return pageOf(redis, index, (ids) => readRequests(redis, keys, ids), keep, skip, limit);
}

export interface SimFilter {
  cleanupStatus?: RegistryCleanupStatus;
  operator?: string;
  /** YYYY-MM-DD, inclusive, on the recycle date. */
  recycledFrom?: string;
  recycledTo?: string;
}

export function listSims(
  redis: Redis,
  keys: WorkflowKeys,
  f: SimFilter,
  skip: number,
  limit: number,
): Promise<Page<RecycledSimDoc>> {
  const index = f.cleanupStatus === undefined ? keys.sims : keys.simsWithStatus(f.cleanupStatus);
  const rest = f.operator !== undefined || f.recycledFrom !== undefined || f.recycledTo !== undefined;
  const keep = rest
    ? (d: RecycledSimDoc) =>
        (f.operator === undefined || d.operator === f.operator) &&
        (f.recycledFrom === undefined || (d.recycleDate !== null && d.recycleDate >= f.recycledFrom)) &&
        (f.recycledTo === undefined || (d.recycleDate !== null && d.recycleDate <= f.recycledTo))
    : null;
  return pageOf(redis, index, (ids) => readSims(redis, keys, ids), keep, skip, limit);
}

/** Which of the numbers' registry entries exist, in order (one round trip). */
export async function simsExist(
  redis: Redis,
  keys: WorkflowKeys,
  simIds: readonly string[],
): Promise<boolean[]> {
  if (simIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of simIds) pipeline.exists(keys.sim(id));
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, n]) => {
    if (err) throw err;
    return n === 1;
  });
}
