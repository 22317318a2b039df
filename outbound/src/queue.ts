import type { Redis } from 'ioredis';
import type { OutboundKeys } from './keys.ts';

/**
 * The durable delivery queue: one sorted set per subscription (webhook ids by due time) and one
 * hash per message, in Redis, so a crash loses nothing and one endpoint's backlog never sits in
 * front of another's. A claimed message's due time moves to the end of its lease: a worker that
 * dies mid-attempt leaves it to be claimed again, with the same webhook-id.
 */

/**
 * One subscription's messages in one call: each is queued unless it is queued already or was
 * delivered lately (in the delivered set, or under the per-message marker older workers wrote).
 * KEYS: queue, delivered set. ARGV: due, now, message key prefix, legacy marker prefix, then
 * (id, body, event type, msisdn, sequence) per message.
 */
const ENQUEUE = `
local added = 0
for i = 5, #ARGV, 5 do
  local id = ARGV[i]
  local key = ARGV[3] .. id
  if not redis.call('ZSCORE', KEYS[2], id) and redis.call('EXISTS', key) == 0
    and redis.call('EXISTS', ARGV[4] .. id) == 0 then
    redis.call('HSET', key, 'b', ARGV[i + 1], 'a', 0, 't', ARGV[i + 2], 'n', ARGV[i + 3], 's', ARGV[i + 4], 'f', ARGV[2])
    redis.call('ZADD', KEYS[1], ARGV[1], id)
    added = added + 1
  end
end
return added
`;

const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local m = redis.call('HMGET', ARGV[4] .. id, 'b', 'a', 't', 'n', 's', 'f')
  if m[1] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id)
    table.insert(out, id)
    for i = 1, 6 do table.insert(out, m[i]) end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`;

/**
 * One subscription's delivered messages in one call: out of the queue, into the delivered set
 * (trimmed to its newest ARGV[2] ids), and the endpoint's failure streak over.
 * KEYS: queue, delivered set, health. ARGV: now, ids kept, set expiry (s), message key prefix, ids.
 */
const SUCCEED = `
for i = 5, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('DEL', ARGV[4] .. ARGV[i])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
end
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1) end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
redis.call('HDEL', KEYS[3], 'since')
return 1
`;

const FAIL = `
redis.call('HSETNX', KEYS[3], 'since', ARGV[3])
local since = redis.call('HGET', KEYS[3], 'since')
if tonumber(ARGV[2]) < 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2])
else
  redis.call('HINCRBY', KEYS[2], 'a', 1)
  redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[1])
end
return since
`;

type QueueRedis = Redis & {
  whEnqueue(q: string, d: string, ...args: (string | number)[]): Promise<number>;
  whClaim(q: string, due: number, leaseUntil: number, n: number, messagePrefix: string): Promise<string[]>;
  whSucceed(q: string, d: string, h: string, ...args: (string | number)[]): Promise<number>;
  whFail(q: string, m: string, h: string, id: string, nextDue: number, now: number): Promise<string>;
};

export interface QueuedMessage {
  subscriptionId: string;
  id: string;
  body: string;
  /** Attempts already made. */
  attempts: number;
  eventType: string;
  msisdn: string;
  sequence: number;
  firstQueuedAt: number;
}

export interface NewMessage {
  subscriptionId: string;
  id: string;
  body: string;
  eventType: string;
  msisdn: string;
  sequence: number;
}

/**
 * How many of a subscription's delivered ids are remembered, so a change replayed after a crash
 * is not sent again. A replay is the fan-out's uncommitted tail (at most one fetched batch per
 * partition, committed as soon as its messages are queued), read again when the worker restarts
 * or its partitions move; its messages were delivered among the subscription's newest deliveries,
 * however long the worker was down, since nothing is delivered meanwhile. A count rather than an
 * expiry per message bounds the memory (about 100 bytes an id, per subscription) at any rate,
 * where a marker key per message kept for days grew with the national rate.
 */
export const DELIVERED_KEPT = 100_000;
/** Messages queued by one script call at most. */
const SCRIPT_MESSAGES = 500;
/** A subscription's delivered set goes once it has had no delivery for this long (deleted or idle). */
const DELIVERED_SET_TTL_SECONDS = 3 * 24 * 3600;

type Settle = {
  m: QueuedMessage;
  nextDue: number | null;
  now: number;
  done(since: number): void;
  fail(e: Error): void;
};

export class DeliveryQueue {
  private readonly redis: QueueRedis;
  /** Outcomes gathered within one turn of the event loop, written in one pipelined round trip. */
  private settling: Settle[] = [];

  constructor(
    redis: Redis,
    private readonly keys: OutboundKeys,
  ) {
    redis.defineCommand('whEnqueue', { numberOfKeys: 2, lua: ENQUEUE });
    redis.defineCommand('whClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('whSucceed', { numberOfKeys: 3, lua: SUCCEED });
    redis.defineCommand('whFail', { numberOfKeys: 3, lua: FAIL });
    this.redis = redis as QueueRedis;
  }

  /**
   * Queues messages (one pipelined round trip, one script per subscription); one already queued
   * or delivered is skipped.
   */
  async enqueue(messages: readonly NewMessage[], due: number, now: number): Promise<number> {
    if (messages.length === 0) return 0;
    const bySubscription = new Map<string, NewMessage[]>();
    for (const m of messages) {
      const list = bySubscription.get(m.subscriptionId);
      if (list) list.push(m);
      else bySubscription.set(m.subscriptionId, [m]);
    }
    const pipeline = this.redis.pipeline() as unknown as QueueRedis;
    // In slices, so no one script holds Redis for long.
    for (const [sub, list] of bySubscription)
      for (let i = 0; i < list.length; i += SCRIPT_MESSAGES) {
        const args: (string | number)[] = [
          due,
          now,
          this.keys.message(sub, ''),
          this.keys.deliveredMarker(sub, ''),
        ];
        for (const m of list.slice(i, i + SCRIPT_MESSAGES))
          args.push(m.id, m.body, m.eventType, m.msisdn, m.sequence);
        void pipeline.whEnqueue(this.keys.queue(sub), this.keys.delivered(sub), ...args);
      }
    const rows = (await (pipeline as unknown as ReturnType<Redis['pipeline']>).exec()) ?? [];
    let added = 0;
    for (const [err, value] of rows) {
      if (err) throw err;
      added += Number(value);
    }
    return added;
  }

  /** Forgets that a message was delivered, for a redelivery the owner asked for. */
  async forgetDelivered(subscriptionId: string, id: string): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.keys.delivered(subscriptionId), id)
      .del(this.keys.deliveredMarker(subscriptionId, id))
      .exec();
  }

  /** Claims up to `limit` due messages of each subscription, in one pipelined round trip. */
  async claim(
    wants: readonly { subscriptionId: string; limit: number }[],
    now: number,
    leaseMs: number,
  ): Promise<QueuedMessage[]> {
    if (wants.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as QueueRedis;
    for (const w of wants)
      void pipeline.whClaim(
        this.keys.queue(w.subscriptionId),
        now,
        now + leaseMs,
        w.limit,
        this.keys.message(w.subscriptionId, ''),
      );
    const rows = (await (pipeline as unknown as ReturnType<Redis['pipeline']>).exec()) ?? [];
    const out: QueuedMessage[] = [];
    rows.forEach(([err, value], i) => {
      if (err) throw err;
      const flat = value as string[];
      const subscriptionId = wants[i]!.subscriptionId;
      for (let j = 0; j + 7 <= flat.length; j += 7) {
        out.push({
          subscriptionId,
          id: flat[j]!,
          body: flat[j + 1]!,
          attempts: Number(flat[j + 2]),
          eventType: flat[j + 3]!,
          msisdn: flat[j + 4]!,
          sequence: Number(flat[j + 5]),
          firstQueuedAt: Number(flat[j + 6]),
        });
      }
    });
    return out;
  }

  /** Forgets a delivered message and marks it delivered (batched with other outcomes). */
  async succeeded(m: QueuedMessage): Promise<void> {
    await this.settle(m, null, 0);
  }

  /** Reschedules (nextDue ≥ 0) or drops (-1) a message; returns when the endpoint's failure streak began. */
  failed(m: QueuedMessage, nextDue: number, now: number): Promise<number> {
    return this.settle(m, nextDue, now);
  }

  private settle(m: QueuedMessage, nextDue: number | null, now: number): Promise<number> {
    return new Promise((done, fail) => {
      if (this.settling.length === 0) setImmediate(() => void this.flushSettled());
      this.settling.push({ m, nextDue, now, done, fail });
    });
  }

  private async flushSettled(): Promise<void> {
    const batch = this.settling;
    this.settling = [];
    // Successes in one script per subscription (written before the same turn's failures: their
    // order within a turn is arbitrary, and this one starts a streak rather than ending it).
    const delivered = new Map<string, Settle[]>();
    const failed: Settle[] = [];
    for (const s of batch) {
      if (s.nextDue !== null) failed.push(s);
      else {
        const list = delivered.get(s.m.subscriptionId);
        if (list) list.push(s);
        else delivered.set(s.m.subscriptionId, [s]);
      }
    }
    const pipeline = this.redis.pipeline() as unknown as QueueRedis;
    const calls: Settle[][] = [];
    const now = Date.now();
    for (const [sub, list] of delivered) {
      void pipeline.whSucceed(
        this.keys.queue(sub),
        this.keys.delivered(sub),
        this.keys.health(sub),
        now,
        DELIVERED_KEPT,
        DELIVERED_SET_TTL_SECONDS,
        this.keys.message(sub, ''),
        ...list.map((s) => s.m.id),
      );
      calls.push(list);
    }
    for (const s of failed) {
      const { m } = s;
      void pipeline.whFail(
        this.keys.queue(m.subscriptionId),
        this.keys.message(m.subscriptionId, m.id),
        this.keys.health(m.subscriptionId),
        m.id,
        s.nextDue!,
        s.now,
      );
      calls.push([s]);
    }
    try {
      const rows = (await (pipeline as unknown as ReturnType<Redis['pipeline']>).exec()) ?? [];
      calls.forEach((list, i) => {
        const [err, value] = rows[i] ?? [new Error('no reply')];
        for (const s of list) {
          if (err) s.fail(err);
          else s.done(Number(value));
        }
      });
    } catch (err) {
      for (const s of batch) s.fail(err as Error);
    }
  }

  /** Drops every queued message of a subscription (deleted or disabled). */
  async purge(subscriptionId: string): Promise<number> {
    const q = this.keys.queue(subscriptionId);
    const ids = await this.redis.zrange(q, 0, -1);
    if (ids.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.del(this.keys.message(subscriptionId, id));
    pipeline.del(q);
    await pipeline.exec();
    return ids.length;
  }

  async depth(subscriptionId: string): Promise<number> {
    return this.redis.zcard(this.keys.queue(subscriptionId));
  }
}
