import type { Redis } from 'ioredis';
import type { OutboundKeys } from './keys.ts';

/**
 * The durable delivery queue: one sorted set per subscription (webhook ids by due time) and one
 * hash per message, in Redis, so a crash loses nothing and one endpoint's backlog never sits in
 * front of another's. A claimed message's due time moves to the end of its lease: a worker that
 * dies mid-attempt leaves it to be claimed again, with the same webhook-id.
 */

const ENQUEUE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'b', ARGV[3], 'a', 0, 't', ARGV[4], 'n', ARGV[5], 's', ARGV[6], 'f', ARGV[7])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return 1
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

const SUCCEED = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('SET', KEYS[3], '1', 'EX', tonumber(ARGV[2]))
redis.call('HDEL', KEYS[4], 'since')
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
  whEnqueue(q: string, m: string, d: string, ...args: (string | number)[]): Promise<number>;
  whClaim(q: string, due: number, leaseUntil: number, n: number, messagePrefix: string): Promise<string[]>;
  whSucceed(q: string, m: string, d: string, h: string, id: string, doneTtl: number): Promise<number>;
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

/** How long a delivered message's id is remembered, so a replayed change is not sent again. */
const DELIVERED_TTL_SECONDS = 3 * 24 * 3600;

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
    redis.defineCommand('whEnqueue', { numberOfKeys: 3, lua: ENQUEUE });
    redis.defineCommand('whClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('whSucceed', { numberOfKeys: 4, lua: SUCCEED });
    redis.defineCommand('whFail', { numberOfKeys: 3, lua: FAIL });
    this.redis = redis as QueueRedis;
  }

  /** Queues messages (one pipelined round trip); one already queued or delivered is skipped. */
  async enqueue(messages: readonly NewMessage[], due: number, now: number): Promise<number> {
    if (messages.length === 0) return 0;
    const pipeline = this.redis.pipeline() as unknown as QueueRedis;
    for (const m of messages)
      void pipeline.whEnqueue(
        this.keys.queue(m.subscriptionId),
        this.keys.message(m.subscriptionId, m.id),
        this.keys.delivered(m.subscriptionId, m.id),
        due,
        m.id,
        m.body,
        m.eventType,
        m.msisdn,
        m.sequence,
        now,
      );
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
    await this.redis.del(this.keys.delivered(subscriptionId, id));
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
    const pipeline = this.redis.pipeline() as unknown as QueueRedis;
    for (const { m, nextDue, now } of batch) {
      const q = this.keys.queue(m.subscriptionId);
      const message = this.keys.message(m.subscriptionId, m.id);
      const health = this.keys.health(m.subscriptionId);
      if (nextDue === null)
        void pipeline.whSucceed(
          q,
          message,
          this.keys.delivered(m.subscriptionId, m.id),
          health,
          m.id,
          DELIVERED_TTL_SECONDS,
        );
      else void pipeline.whFail(q, message, health, m.id, nextDue, now);
    }
    try {
      const rows = (await (pipeline as unknown as ReturnType<Redis['pipeline']>).exec()) ?? [];
      batch.forEach((s, i) => {
        const [err, value] = rows[i] ?? [new Error('no reply')];
        if (err) s.fail(err);
        else s.done(Number(value));
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
