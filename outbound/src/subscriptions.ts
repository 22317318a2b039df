import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { OutboundCodec } from './codec.ts';
import type { OutboundKeys } from './keys.ts';
import { newSigningSecret, type SecretBox } from './secrets.ts';

/**
 * What a subscription may pick: the TIRMS statuses, the lifecycle findings RECYCLED and CONFLICTED,
 * and the outcomes of the delink workflow.
 */
export const WEBHOOK_EVENT_TYPES = [
  'CHURNED',
  'SWAPPED',
  'BLACKLISTED',
  'REASSIGNED',
  'NORMAL',
  'RECYCLED',
  'CONFLICTED',
  'DELINK_APPROVED',
  'DELINK_REJECTED',
  'DELINK_COMPLETED',
  'DELINK_FAILED',
  'DELINK_CANCELLED',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface StoredSecret {
  ciphertext: string;
  createdAt: number;
  expiresAt: number | null;
}

export interface Subscription {
  id: string;
  organisation: string;
  url: string;
  events: string[];
  description: string | null;
  secrets: StoredSecret[];
  active: boolean;
  createdAt: number;
  createdBy: string;
  deletedAt: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
}

export type SubscriptionEventType = 'REGISTERED' | 'SECRET_ROTATED' | 'DELETED' | 'DISABLED';

export interface SubscriptionEvent {
  eventId: string;
  source: string;
  type: SubscriptionEventType;
  actor: string;
  subscription: Subscription;
  occurredAt: number;
  receivedAt: number;
}

/** The secrets a message is signed with now: the newest and any older one still in its overlap. */
export function liveSecrets(sub: Subscription, box: SecretBox, now: number): string[] {
  return sub.secrets
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => box.open(s.ciphertext));
}

const APPLY_SNAPSHOT = `
local held = redis.call('HGET', KEYS[1], 'o')
if held and tonumber(held) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[1], 'v', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

type RedisWithApply = Redis & {
  applySubscription(key: string, index: string, offset: string, json: string, id: string): Promise<number>;
};

/** Reads of the Redis projection (API and worker). */
export class SubscriptionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: OutboundKeys,
  ) {}

  async get(id: string): Promise<Subscription | null> {
    const json = await this.redis.hget(this.keys.subscription(id), 'v');
    return json ? (JSON.parse(json) as Subscription) : null;
  }

  /** Every subscription (deleted ones included), oldest first. */
  async all(): Promise<Subscription[]> {
    const ids = await this.redis.smembers(this.keys.subscriptions);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.subscription(id), 'v');
    const rows = (await pipeline.exec()) ?? [];
    return rows
      .map(([, json]) => (typeof json === 'string' ? (JSON.parse(json) as Subscription) : null))
      .filter((s): s is Subscription => s !== null)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }
}

export interface ProjectorOptions {
  kafka: Kafka;
  redis: Redis;
  keys: OutboundKeys;
  codec: OutboundCodec<SubscriptionEvent>;
  topic: string;
  /** Called for every event after Redis has it, in topic order per subscription. */
  onApplied?(event: SubscriptionEvent): void;
}

/**
 * Projects the webhook-subscriptions topic (the system of record, compacted) into Redis. It runs
 * in every API process and in the delivery worker: each replays the whole topic on start-up (it is
 * small) with a group of its own, and snapshot writes are guarded by offset, so a lagging replay
 * never puts back an older snapshot.
 */
export class SubscriptionProjector {
  private consumer: Consumer | null = null;
  private readonly applied = new Map<number, number>();
  private waiters: { partition: number; offset: number; resolve: () => void }[] = [];
  private readonly redis: RedisWithApply;

  constructor(private readonly o: ProjectorOptions) {
    o.redis.defineCommand('applySubscription', { numberOfKeys: 2, lua: APPLY_SNAPSHOT });
    this.redis = o.redis as RedisWithApply;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    let ends: { partition: number; high: string }[] = [];
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          ends = await admin.fetchTopicOffsets(this.o.topic);
          break;
        } catch (err) {
          if (attempt >= 50) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      await admin.disconnect();
    }
    const consumer = this.o.kafka.consumer({
      groupId: `webhook-subscriptions-${process.pid}-${randomUUID().slice(0, 8)}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const event = await this.o.codec.decode(message.value);
        await this.redis.applySubscription(
          this.o.keys.subscription(event.subscription.id),
          this.o.keys.subscriptions,
          message.offset,
          JSON.stringify(event.subscription),
          event.subscription.id,
        );
        this.o.onApplied?.(event);
        this.markApplied(partition, Number(message.offset));
      },
    });
    await Promise.all(
      ends
        .filter((e) => Number(e.high) > 0)
        .map((e) => this.waitFor(e.partition, Number(e.high) - 1, timeoutMs)),
    );
  }

  /** Resolves once this instance has applied `offset` of `partition`. */
  waitFor(partition: number, offset: number, timeoutMs = 10_000): Promise<void> {
    if ((this.applied.get(partition) ?? -1) >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`subscription projection did not reach ${partition}@${offset} in ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ partition, offset, resolve: done });
    });
  }

  private markApplied(partition: number, offset: number): void {
    this.applied.set(partition, offset);
    const ready = this.waiters.filter((w) => w.partition === partition && w.offset <= offset);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}

export interface Registration {
  organisation: string;
  url: string;
  events: string[];
  description: string | null;
}

/**
 * Changes to subscriptions, as events on the topic; each call resolves once this process's
 * projection holds the change, so the caller's next read sees it.
 */
export class SubscriptionCommands {
  constructor(
    private readonly o: {
      producer: Producer;
      codec: OutboundCodec<SubscriptionEvent>;
      topic: string;
      projector: SubscriptionProjector;
      box: SecretBox;
      now: () => number;
    },
  ) {}

  async register(actor: string, r: Registration): Promise<{ subscription: Subscription; secret: string }> {
    const now = this.o.now();
    const secret = newSigningSecret();
    const subscription: Subscription = {
      id: `whsub_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      organisation: r.organisation,
      url: r.url,
      events: [...new Set(r.events)],
      description: r.description,
      secrets: [{ ciphertext: this.o.box.seal(secret), createdAt: now, expiresAt: null }],
      active: true,
      createdAt: now,
      createdBy: actor,
      deletedAt: null,
      disabledAt: null,
      disabledReason: null,
    };
    await this.publish('REGISTERED', actor, subscription);
    return { subscription, secret };
  }

  /** A new secret; the ones before it stay valid for `overlapSeconds`. */
  async rotateSecret(
    actor: string,
    sub: Subscription,
    overlapSeconds: number,
  ): Promise<{ subscription: Subscription; secret: string }> {
    const now = this.o.now();
    const secret = newSigningSecret();
    const until = now + overlapSeconds * 1000;
    const older = sub.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ ...s, expiresAt: s.expiresAt === null ? until : Math.min(s.expiresAt, until) }))
      .filter((s) => s.expiresAt > now);
    const subscription = {
      ...sub,
      secrets: [{ ciphertext: this.o.box.seal(secret), createdAt: now, expiresAt: null }, ...older],
    };
    await this.publish('SECRET_ROTATED', actor, subscription);
    return { subscription, secret };
  }

  async delete(actor: string, sub: Subscription): Promise<Subscription> {
    const subscription = { ...sub, active: false, deletedAt: this.o.now() };
    await this.publish('DELETED', actor, subscription);
    return subscription;
  }

  async disable(actor: string, sub: Subscription, reason: string): Promise<Subscription> {
    const subscription = { ...sub, active: false, disabledAt: this.o.now(), disabledReason: reason };
    await this.publish('DISABLED', actor, subscription);
    return subscription;
  }

  private async publish(
    type: SubscriptionEventType,
    actor: string,
    subscription: Subscription,
  ): Promise<void> {
    const now = this.o.now();
    const event: SubscriptionEvent = {
      eventId: randomUUID(),
      source: actor.startsWith('system:') ? 'WORKER' : 'API',
      type,
      actor,
      subscription,
      occurredAt: now,
      receivedAt: now,
    };
    const [meta] = await this.o.producer.send({
      topic: this.o.topic,
      acks: -1,
      messages: [{ key: subscription.id, value: this.o.codec.encode(event) }],
    });
    if (meta) await this.o.projector.waitFor(meta.partition, Number(meta.baseOffset));
  }
}
