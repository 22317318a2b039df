import type { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import type { AccountCodec, AccountEvent } from './accounts.ts';
import type { SecurityKeys } from './keys.ts';

/**
 * Writes a snapshot only if it comes from a later offset than the one held: every API instance
 * replays the topic into the same Redis, and a lagging replay must never put back an older
 * snapshot (a revoked key re-enabled). One entity's events share a partition (keyed by
 * organisation), so offsets order them.
 */
const APPLY_SNAPSHOT = `
local held = redis.call('HGET', KEYS[1], 'o')
if held and tonumber(held) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'v', ARGV[2])
return 1
`;

type RedisWithApply = Redis & {
  applySnapshot(key: string, offset: string, json: string): Promise<number>;
};

export interface ProjectorOptions {
  kafka: Kafka;
  redis: Redis;
  keys: SecurityKeys;
  codec: AccountCodec;
  topic: string;
  /** Called for every applied event, after Redis has it (cache invalidation). */
  onApplied(event: AccountEvent): void;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * Projects the accounts topic (system of record for organisations, users and keys) into Redis.
 * It runs inside every API process: it reads the whole topic from the start on start-up (the topic
 * is small), so an instance serves only once it has caught up; and because each instance sees
 * every later change itself, the change also reaches that instance's in-process cache at once —
 * a revocation needs no separate invalidation channel. Offsets are never committed: the group
 * id is per process and Redis writes are idempotent.
 */
export class AccountsProjector {
  private consumer: Consumer | null = null;
  private readonly applied = new Map<number, number>();
  private waiters: { partition: number; offset: number; resolve: () => void }[] = [];
  private readonly redis: RedisWithApply;

  constructor(private readonly o: ProjectorOptions) {
    o.redis.defineCommand('applySnapshot', { numberOfKeys: 1, lua: APPLY_SNAPSHOT });
    this.redis = o.redis as RedisWithApply;
  }

  /** Starts consuming and resolves once every partition is applied up to its end at start-up. */
  async start(timeoutMs = 60_000): Promise<void> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    let ends: { partition: number; high: string }[] = [];
    try {
      // A topic created moments ago may not have leaders in every broker's metadata yet.
      for (let attempt = 0; ; attempt++) {
        try {
          ends = await admin.fetchTopicOffsets(this.o.topic);
          break;
        } catch (err) {
          if (attempt >= 50) throw err;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      await admin.disconnect();
    }
    const consumer = this.o.kafka.consumer({
      groupId: `accounts-projector-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const events: { event: AccountEvent; offset: string }[] = [];
        for (const m of batch.messages) {
          try {
            events.push({ event: await this.o.codec.decode(m.value), offset: m.offset });
          } catch (err) {
            this.o.log?.('undecodable account event skipped', {
              partition: batch.partition,
              offset: m.offset,
              error: (err as Error).message,
            });
          }
        }
        await this.apply(events);
        for (const { event } of events) this.o.onApplied(event);
        this.markApplied(batch.partition, Number(batch.lastOffset()) + 1);
        await heartbeat();
      },
    });
    await Promise.race([
      Promise.all(ends.map((e) => this.waitFor(e.partition, Number(e.high)))),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`accounts projection not caught up in ${timeoutMs} ms`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  /** Resolves once the record before `nextOffset` in `partition` is applied (read-your-writes). */
  waitFor(partition: number, nextOffset: number): Promise<void> {
    if (nextOffset <= 0 || (this.applied.get(partition) ?? 0) >= nextOffset) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ partition, offset: nextOffset, resolve }));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private markApplied(partition: number, next: number): void {
    if ((this.applied.get(partition) ?? 0) < next) this.applied.set(partition, next);
    const done = this.waiters.filter((w) => w.partition === partition && w.offset <= next);
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }

  private async apply(events: { event: AccountEvent; offset: string }[]): Promise<void> {
    if (events.length === 0) return;
    const { keys } = this.o;
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      applySnapshot(key: string, offset: string, json: string): unknown;
    };
    for (const { event, offset } of events) {
      if (event.organisation) {
        pipeline.applySnapshot(
          keys.organisation(event.organisation.id),
          offset,
          JSON.stringify(event.organisation),
        );
        pipeline.sadd(keys.organisations, event.organisation.id);
      }
      if (event.user) {
        pipeline.applySnapshot(keys.user(event.user.id), offset, JSON.stringify(event.user));
        pipeline.set(keys.userByEmail(event.user.email), event.user.id);
      }
      if (event.apiKey) {
        const k = event.apiKey;
        pipeline.applySnapshot(keys.apiKey(k.hash), offset, JSON.stringify(k));
        pipeline.set(keys.apiKeyId(k.id), k.hash);
        pipeline.hset(keys.organisationKeys(k.organisationId), k.id, k.hash);
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed?.[0]) throw failed[0];
  }
}
