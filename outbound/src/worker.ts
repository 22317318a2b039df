import type { ClickHouseClient } from '@clickhouse/client';
import { type Config, createSchemaRegistry, topicNames } from '@hub/infra';
import {
  EventCodec,
  type StateChangeEvent,
  UndecodableRecordError,
  type VerificationEvent,
} from '@hub/schemas';
import type { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { eventsOf, stateChangeCloudEvent, webhookId } from './cloud-events.ts';
import { OutboundCodec } from './codec.ts';
import { DeliveryLog, DeliveryLogSink, type DeliveryRecord } from './delivery-log.ts';
import { Dispatcher } from './dispatcher.ts';
import { outboundKeys } from './keys.ts';
import { EmailAdapter, SmsAdapter } from './notifications/adapters.ts';
import { type NotificationEvent, NotificationStore } from './notifications/model.ts';
import { NotificationSender } from './notifications/sender.ts';
import { DeliveryQueue, type NewMessage } from './queue.ts';
import { SecretBox } from './secrets.ts';
import {
  type Subscription,
  SubscriptionCommands,
  type SubscriptionEvent,
  SubscriptionProjector,
} from './subscriptions.ts';
import { encodeSeen, WatchList } from './watch-list.ts';

export interface WorkerOptions {
  config: Config;
  kafka: Kafka;
  producer: Producer;
  redis: Redis;
  clickhouse: ClickHouseClient;
  /** Consumer group prefix; the groups are `<prefix>outbound-…`. */
  groupPrefix?: string;
  breakerOpenMs?: number;
  pollMs?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/**
 * The delivery worker: builds watch lists from the verifications topic, turns each state change of
 * a watched number into one message per matching subscription (queued durably in Redis before the
 * offset is committed), and sends them (dispatcher). Attempts go to the webhook-deliveries topic
 * and from there into ClickHouse; redelivery requests come back the same way.
 */
export class OutboundWorker {
  readonly keys;
  readonly queue: DeliveryQueue;
  readonly watch: WatchList;
  readonly dispatcher: Dispatcher;
  private readonly consumers: Consumer[] = [];
  private projector: SubscriptionProjector | null = null;
  private sink: DeliveryLogSink | null = null;
  private commands: SubscriptionCommands | null = null;
  private readonly codec: EventCodec;
  private readonly subscriptionCodec: OutboundCodec<SubscriptionEvent>;
  private readonly deliveryCodec: OutboundCodec<DeliveryRecord>;
  private readonly box: SecretBox;
  private readonly notificationCodec: OutboundCodec<NotificationEvent>;
  readonly notifications: NotificationStore;
  private readonly email: EmailAdapter;
  private sender: NotificationSender | null = null;
  private readonly topics;
  /** Active subscriptions by organisation, for the fan-out. */
  private readonly byOrganisation = new Map<string, Map<string, Subscription>>();

  constructor(private readonly o: WorkerOptions) {
    const { config } = o;
    this.keys = outboundKeys(config.REDIS_KEY_PREFIX);
    this.topics = topicNames(config.TOPIC_PREFIX);
    const registry = createSchemaRegistry(config);
    this.codec = new EventCodec(registry);
    this.subscriptionCodec = new OutboundCodec<SubscriptionEvent>(registry, 'webhook-subscription');
    this.deliveryCodec = new OutboundCodec<DeliveryRecord>(registry, 'webhook-delivery');
    this.box = new SecretBox(config.WEBHOOK_SECRET_KEY);
    this.notificationCodec = new OutboundCodec<NotificationEvent>(registry, 'notification');
    this.notifications = new NotificationStore(o.redis, config.REDIS_KEY_PREFIX);
    this.email = new EmailAdapter(config.SMTP_URL, config.MAIL_FROM);
    this.queue = new DeliveryQueue(o.redis, this.keys);
    this.watch = new WatchList(o.redis, this.keys, config.WATCH_TTL_SECONDS);
    this.dispatcher = new Dispatcher({
      queue: this.queue,
      log: new DeliveryLog(o.producer, this.deliveryCodec, this.topics.webhookDeliveries),
      box: this.box,
      urlPolicy: { production: config.NODE_ENV === 'production', allowlist: config.WEBHOOK_URL_ALLOWLIST },
      schedule: config.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      concurrency: config.WEBHOOK_CONCURRENCY,
      disableAfterMs: config.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
      onDisable: async (sub, reason) => {
        this.log('warn', 'webhook endpoint disabled', {
          subscription: sub.id,
          organisation: sub.organisation,
          reason,
        });
        await this.commands?.disable('system:outbound', sub, reason);
      },
      ...(o.breakerOpenMs === undefined ? {} : { breakerOpenMs: o.breakerOpenMs }),
      ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
      warn: (message, fields) => this.log('warn', message, fields),
    });
  }

  private log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) {
    this.o.log?.(level, message, fields);
  }

  private group(name: string) {
    return `${this.o.groupPrefix ?? this.o.config.TOPIC_PREFIX}outbound-${name}`;
  }

  async start(): Promise<void> {
    const t = this.topics;
    await this.codec.register('state-change', t.stateChanges);
    await this.codec.register('verification', t.verifications);
    await this.subscriptionCodec.register(t.webhookSubscriptions);
    await this.deliveryCodec.register(t.webhookDeliveries);
    await this.notificationCodec.register(t.notifications);

    this.projector = new SubscriptionProjector({
      kafka: this.o.kafka,
      redis: this.o.redis,
      keys: this.keys,
      codec: this.subscriptionCodec,
      topic: t.webhookSubscriptions,
      onApplied: (event) => this.applySubscription(event.subscription),
    });
    await this.projector.start();
    this.commands = new SubscriptionCommands({
      producer: this.o.producer,
      codec: this.subscriptionCodec,
      topic: t.webhookSubscriptions,
      projector: this.projector,
      box: this.box,
      now: Date.now,
    });

    // Watches come from every verification ever recorded; webhooks only for changes from now on.
    await this.consume(t.verifications, this.group('watch'), true, (p) => this.onVerifications(p));
    await this.consume(t.stateChanges, this.group('fanout'), false, (p) => this.onStateChanges(p));
    this.sender = new NotificationSender({
      producer: this.o.producer,
      codec: this.notificationCodec,
      topic: t.notifications,
      sms: new SmsAdapter(this.o.config.SMS_GATEWAY_URL),
      email: this.email,
      queue: this.queue,
      subscriptionsOf: (organisation) => [...(this.byOrganisation.get(organisation)?.values() ?? [])],
      kick: () => this.dispatcher.kick(),
    });
    // The projection wants every notification, so this group reads the topic from its start.
    await this.consume(t.notifications, this.group('notifications'), true, (p) => this.onNotifications(p));
    this.sink = new DeliveryLogSink({
      kafka: this.o.kafka,
      clickhouse: this.o.clickhouse,
      database: this.o.config.CLICKHOUSE_DATABASE,
      codec: this.deliveryCodec,
      topic: t.webhookDeliveries,
      groupId: this.group('delivery-log'),
      onRedelivery: (r) => this.redeliver(r),
    });
    await this.sink.start();
    this.dispatcher.start();
  }

  private applySubscription(sub: Subscription): void {
    for (const subs of this.byOrganisation.values()) subs.delete(sub.id);
    if (sub.active) {
      let subs = this.byOrganisation.get(sub.organisation);
      if (!subs) {
        subs = new Map();
        this.byOrganisation.set(sub.organisation, subs);
      }
      subs.set(sub.id, sub);
    } else {
      void this.queue.purge(sub.id).catch(() => undefined);
    }
    this.dispatcher.upsert(sub);
  }

  private async consume(
    topic: string,
    groupId: string,
    fromBeginning: boolean,
    handle: (p: EachBatchPayload) => Promise<void>,
  ): Promise<void> {
    if (!fromBeginning) await startAtEnd(this.o.kafka, groupId, topic);
    const consumer = this.o.kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatch: async (p) => {
        if (p.batch.messages.length === 0) return;
        await handle(p);
        const last = p.batch.messages[p.batch.messages.length - 1]!;
        // Commit only once the batch's effects (watches, queued messages) are in Redis.
        await p.commitOffsetsIfNecessary({
          topics: [
            {
              topic: p.batch.topic,
              partitions: [{ partition: p.batch.partition, offset: String(Number(last.offset) + 1) }],
            },
          ],
        });
        await p.heartbeat();
      },
    });
  }

  private async decodeAll<K extends 'verification' | 'state-change'>(kind: K, p: EachBatchPayload) {
    const out = [];
    for (const m of p.batch.messages) {
      try {
        out.push(this.codec.decodeCached(kind, m.value) ?? (await this.codec.decode(kind, m.value)));
      } catch (err) {
        if (!(err instanceof UndecodableRecordError)) throw err;
        this.log('warn', 'skipping an undecodable record', {
          topic: p.batch.topic,
          partition: p.batch.partition,
          offset: m.offset,
          reason: err.message,
        });
      }
    }
    return out;
  }

  private async onVerifications(p: EachBatchPayload): Promise<void> {
    const events = (await this.decodeAll('verification', p)) as VerificationEvent[];
    await this.watch.record(events);
  }

  private async onStateChanges(p: EachBatchPayload): Promise<void> {
    const changes = (await this.decodeAll('state-change', p)) as StateChangeEvent[];
    if (changes.length === 0) return;
    const now = Date.now();
    const found = await this.watch.lookup(
      changes.map((c) => c.msisdn),
      now,
    );
    const messages: NewMessage[] = [];
    const seenUpdates = this.o.redis.pipeline();
    // Within a batch a number may change more than once: carry its statuses forward in order.
    const carried = new Map<string, ReturnType<typeof WatchList.advance>>();
    changes.forEach((change, i) => {
      const w = found[i]!;
      if (w.organisations.length === 0 && w.seen === null) return;
      const previous = carried.get(change.msisdn);
      const step = WatchList.advance(previous ? previous.next : w.seen, change);
      if (!step) return;
      carried.set(change.msisdn, step);
      seenUpdates.hset(this.keys.watch(change.msisdn), '_', encodeSeen(step.next));
      if (w.expired.length > 0) seenUpdates.hdel(this.keys.watch(change.msisdn), ...w.expired);
      const events = eventsOf(change, step.before);
      if (events.length === 0) return;
      for (const organisation of w.organisations) {
        for (const sub of this.byOrganisation.get(organisation)?.values() ?? []) {
          for (const event of events) {
            if (!sub.events.includes(event)) continue;
            const id = webhookId(sub.id, change.eventId, event);
            messages.push({
              subscriptionId: sub.id,
              id,
              body: JSON.stringify(stateChangeCloudEvent(id, event, change, step.before)),
              eventType: event,
              msisdn: change.msisdn,
              sequence: change.version,
            });
          }
        }
      }
    });
    await this.queue.enqueue(messages, now, now);
    if (seenUpdates.length > 0) await seenUpdates.exec();
    if (messages.length > 0) this.dispatcher.kick();
  }

  private async onNotifications(p: EachBatchPayload): Promise<void> {
    const events: NotificationEvent[] = [];
    for (const m of p.batch.messages) {
      try {
        events.push(await this.notificationCodec.decode(m.value));
      } catch (err) {
        this.log('warn', 'skipping an undecodable notification', {
          offset: m.offset,
          error: (err as Error).message,
        });
      }
    }
    for (const n of events) await this.notifications.apply(n);
    // Sent concurrently; the offset is committed once each has its outcome on the topic.
    await Promise.all(events.filter((n) => n.status === 'QUEUED').map((n) => this.sender!.deliver(n)));
  }

  private async redeliver(r: DeliveryRecord): Promise<void> {
    const sub = await this.projectedSubscription(r.subscriptionId);
    if (!sub?.active) return;
    await this.queue.forgetDelivered(r.subscriptionId, r.webhookId);
    const now = Date.now();
    await this.queue.enqueue(
      [
        {
          subscriptionId: r.subscriptionId,
          id: r.webhookId,
          body: r.body,
          eventType: r.eventType,
          msisdn: r.msisdn,
          sequence: r.sequence,
        },
      ],
      now,
      now,
    );
    this.dispatcher.kick();
  }

  private async projectedSubscription(id: string): Promise<Subscription | null> {
    for (const subs of this.byOrganisation.values()) {
      const s = subs.get(id);
      if (s) return s;
    }
    return null;
  }

  async stop(): Promise<void> {
    await this.dispatcher.stop();
    for (const c of this.consumers) await c.disconnect();
    await this.sink?.stop();
    await this.projector?.stop();
    this.email.close();
  }
}

/**
 * A group that has never committed on `topic` starts at its end, fixed now rather than when the
 * first fetch happens, so nothing published after start() returns is skipped.
 */
async function startAtEnd(kafka: Kafka, groupId: string, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const fresh = (committed?.partitions ?? []).filter((p) => p.offset === '-1');
    if (committed && fresh.length < committed.partitions.length) return;
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({
      groupId,
      topic,
      partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })),
    });
  } finally {
    await admin.disconnect();
  }
}
