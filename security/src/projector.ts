import type { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import { type AccountCodec, type AccountEvent, parseAccountKey } from './accounts.ts';
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

/** A user's snapshot as APPLY_SNAPSHOT, and the e-mail index only with it (a deleted user's stays gone). */
const APPLY_USER = `
local held = redis.call('HGET', KEYS[1], 'o')
if held and tonumber(held) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'v', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return 1
`;

/**
 * A user's tombstone: unless a later snapshot is held, the record keeps only its offset (so an
 * older snapshot replayed later is still refused) and the e-mail index entry pointing at it goes.
 */
const DELETE_USER = `
local held = redis.call('HGET', KEYS[1], 'o')
if held and tonumber(held) >= tonumber(ARGV[1]) then return 0 end
local json = redis.call('HGET', KEYS[1], 'v')
if json and json ~= '' then
  local email = cjson.decode(json)['email']
  local index = ARGV[2] .. email
  if redis.call('GET', index) == ARGV[3] then redis.call('DEL', index) end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'v', '')
return 1
`;

type RedisWithApply = Redis & {
  applySnapshot(key: string, offset: string, json: string): Promise<number>;
  applyUser(key: string, emailKey: string, offset: string, json: string, id: string): Promise<number>;
  deleteUser(key: string, offset: string, emailPrefix: string, id: string): Promise<number>;
};

/** A record of the accounts topic: an event, or a tombstone (a deleted user). */
type Change =
  | { kind: 'event'; event: AccountEvent; offset: string }
  | { kind: 'user-deleted'; organisation: string; userId: string; offset: string };

/** A record that could not be read: its organisation's credentials are refused until it is. */
interface Unreadable {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Null when the key names no organisation: then every credential is refused. */
  organisation: string | null;
  error: string;
}

export interface ProjectorOptions {
  kafka: Kafka;
  redis: Redis;
  keys: SecurityKeys;
  codec: AccountCodec;
  topic: string;
  /** Called for every applied event, after Redis has it (cache invalidation). */
  onApplied(event: AccountEvent): void;
  /** Called for a deleted user, after Redis has it. */
  onUserDeleted?(userId: string): void;
  log?: (level: 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  /** How often records that could not be read are tried again (ms). */
  retryUnreadableMs?: number;
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
  private readonly unreadable = new Map<string, Unreadable>();
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: ProjectorOptions) {
    o.redis.defineCommand('applySnapshot', { numberOfKeys: 1, lua: APPLY_SNAPSHOT });
    o.redis.defineCommand('applyUser', { numberOfKeys: 2, lua: APPLY_USER });
    o.redis.defineCommand('deleteUser', { numberOfKeys: 1, lua: DELETE_USER });
    this.redis = o.redis as RedisWithApply;
  }

  /**
   * Fails closed: true while a record of `organisation` (or one naming no organisation) could not
   * be read. It may have been a revocation, so that organisation's credentials must not pass.
   */
  refuses(organisation: string): boolean {
    for (const u of this.unreadable.values())
      if (u.organisation === null || u.organisation === organisation) return true;
    return false;
  }

  /** The records that could not be read, for health and operators. */
  get unreadableRecords(): readonly Omit<Unreadable, 'key' | 'value'>[] {
    return [...this.unreadable.values()].map(({ key: _k, value: _v, ...rest }) => rest);
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
        const changes: Change[] = [];
        for (const m of batch.messages) {
          const change = await this.read(batch.partition, m.offset, m.key, m.value);
          if (change) changes.push(change);
        }
        await this.apply(changes);
        this.notify(changes);
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
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
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

  /**
   * One record as a change. A record that cannot be read (schema registry down, a writer's bug)
   * is never skipped silently: its organisation's credentials are refused until a retry reads it.
   */
  private async read(
    partition: number,
    offset: string,
    key: Buffer | null,
    value: Buffer | null,
  ): Promise<Change | null> {
    const parsed = parseAccountKey(key);
    if (value === null || value.length === 0) {
      if (parsed.organisation && parsed.entity?.kind === 'user')
        return { kind: 'user-deleted', organisation: parsed.organisation, userId: parsed.entity.id, offset };
      this.quarantine({
        partition,
        offset,
        key,
        value,
        organisation: parsed.organisation,
        error: 'a tombstone that names no user',
      });
      return null;
    }
    try {
      return { kind: 'event', event: await this.o.codec.decode(value), offset };
    } catch (err) {
      this.quarantine({
        partition,
        offset,
        key,
        value,
        organisation: parsed.organisation,
        error: (err as Error).message,
      });
      return null;
    }
  }

  private quarantine(u: Unreadable): void {
    this.unreadable.set(`${u.partition}:${u.offset}`, u);
    this.o.log?.(
      'error',
      'account record could not be read; credentials of its organisation are refused until it is',
      {
        partition: u.partition,
        offset: u.offset,
        organisation: u.organisation ?? '(none named: every organisation)',
        error: u.error,
      },
    );
    this.retryTimer ??= setInterval(() => void this.retryUnreadable(), this.o.retryUnreadableMs ?? 30_000);
    this.retryTimer.unref();
  }

  /** Reads the quarantined records again; those that now decode are applied (older snapshots lose). */
  private async retryUnreadable(): Promise<void> {
    for (const [id, u] of [...this.unreadable]) {
      if (u.value === null || u.value.length === 0) continue;
      let event: AccountEvent;
      try {
        event = await this.o.codec.decode(u.value);
      } catch {
        continue;
      }
      try {
        const change: Change = { kind: 'event', event, offset: u.offset };
        await this.apply([change]);
        this.notify([change]);
        this.unreadable.delete(id);
        this.o.log?.('warn', 'account record read on retry; its organisation is served again', {
          partition: u.partition,
          offset: u.offset,
          organisation: u.organisation,
        });
      } catch (err) {
        this.o.log?.('error', 'account record read on retry but not applied', {
          error: (err as Error).message,
        });
      }
    }
    if (this.unreadable.size === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = null;
    }
  }

  private notify(changes: Change[]): void {
    for (const c of changes)
      if (c.kind === 'event') this.o.onApplied(c.event);
      else this.o.onUserDeleted?.(c.userId);
  }

  private async apply(changes: Change[]): Promise<void> {
    if (changes.length === 0) return;
    const { keys } = this.o;
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      applySnapshot(key: string, offset: string, json: string): unknown;
      applyUser(key: string, emailKey: string, offset: string, json: string, id: string): unknown;
      deleteUser(key: string, offset: string, emailPrefix: string, id: string): unknown;
    };
    for (const change of changes) {
      const { offset } = change;
      if (change.kind === 'user-deleted') {
        pipeline.deleteUser(keys.user(change.userId), offset, keys.userByEmail(''), change.userId);
        continue;
      }
      const { event } = change;
      if (event.organisation) {
        pipeline.applySnapshot(
          keys.organisation(event.organisation.id),
          offset,
          JSON.stringify(event.organisation),
        );
        pipeline.sadd(keys.organisations, event.organisation.id);
      }
      if (event.user) {
        const u = event.user;
        pipeline.applyUser(keys.user(u.id), keys.userByEmail(u.email), offset, JSON.stringify(u), u.id);
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
