import type { ClickHouseClient } from '@clickhouse/client';
import { type Config, createSchemaRegistry, topicNames } from '@hub/infra';
import {
  type DelinkEvent,
  EventCodec,
  type EventKind,
  type EventTypes,
  type RecycledSimEvent,
  type StateChangeEvent,
  UndecodableRecordError,
  type VerificationEvent,
} from '@hub/schemas';
import { workflowKeys } from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { eventsOf, stateChangeBodies, webhookId } from './cloud-events.ts';
import { OutboundCodec } from './codec.ts';
import { DeliveryLog, DeliveryLogSink, type DeliveryRecord } from './delivery-log.ts';
import { Dispatcher } from './dispatcher.ts';
import { outboundKeys } from './keys.ts';
import { EmailAdapter, SmsAdapter } from './notifications/adapters.ts';
import { type NotificationEvent, NotificationStore, STATUS_RANK } from './notifications/model.ts';
import { NotificationSender } from './notifications/sender.ts';
import { OperatorDirectory } from './operators.ts';
import { DeliveryQueue, type NewMessage } from './queue.ts';
import { SecretBox } from './secrets.ts';
import {
  type Subscription,
  SubscriptionCommands,
  type SubscriptionEvent,
  SubscriptionProjector,
} from './subscriptions.ts';
import { encodeSeen, WatchList } from './watch-list.ts';
import { delinkCloudEvent, detectionNotice, isDelinkOutcome, WorkflowView } from './workflow.ts';

/** How long a workflow event waits for the workflow projection before its batch is retried. */
const WORKFLOW_WAIT_MS = 15_000;

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
  /** The dispatcher's claims and outcomes, on a connection of their own, so a large fan-out pipeline never sits in front of them. */
  private readonly dispatchRedis: Redis;
  readonly watch: WatchList;
  readonly dispatcher: Dispatcher;
  private readonly consumers: Consumer[] = [];
  private readonly deliveryLog: DeliveryLog;
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
  private readonly workflow: WorkflowView;
  private readonly operators: OperatorDirectory;
  /** Notifications being sent by this process, so a duplicate QUEUED in flight is not sent twice. */
  private readonly sending = new Set<string>();

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
    this.dispatchRedis = o.redis.duplicate();
    this.watch = new WatchList(o.redis, this.keys, config.WATCH_TTL_SECONDS);
    this.workflow = new WorkflowView(o.redis, workflowKeys(config.REDIS_KEY_PREFIX));
    this.operators = new OperatorDirectory(o.redis, config.REDIS_KEY_PREFIX);
    this.deliveryLog = new DeliveryLog(o.producer, this.deliveryCodec, this.topics.webhookDeliveries);
    this.dispatcher = new Dispatcher({
      queue: new DeliveryQueue(this.dispatchRedis, this.keys),
      log: this.deliveryLog,
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
    this.deliveryLog.usePartitions(await partitionCount(this.o.kafka, t.webhookDeliveries));

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
      store: this.notifications,
      subscriptionsOf: async (organisation) =>
        (await this.operators.organisationsOf(organisation)).flatMap((id) => [
          ...(this.byOrganisation.get(id)?.values() ?? []),
        ]),
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
      onRecords: (records) => this.onDeliveryRecords(records),
    });
    await this.sink.start();
    // Workflow outcomes and detections from now on, like state changes.
    await this.consume(t.delink, this.group('delink'), false, (p) => this.onDelink(p));
    await this.consume(t.recycledSims, this.group('detections'), false, (p) => this.onDetections(p));
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
    // A fetch returns as soon as a record is there; the wait only bounds empty polls, which cost
    // CPU on every idle topic (seven consumers in this process), so it is not kept short.
    const consumer = this.o.kafka.consumer({ groupId, maxWaitTimeInMs: 500, allowAutoTopicCreation: false });
    this.consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning });
    await consumer.run({
      autoCommit: false,
      // Partitions in parallel (each in order), so one partition's Redis and commit round trips
      // do not wait behind another's; a number, keyed, lives in one partition.
      partitionsConsumedConcurrently: Math.max(1, this.o.config.KAFKA_PARTITIONS),
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

  /** A batch's events that decode; one that does not is skipped (its topic's owner dead-letters it). */
  private async decodeAll<K extends EventKind>(kind: K, p: EachBatchPayload): Promise<EventTypes[K][]> {
    return (await this.decodeRecords(kind, p)).map((r) => r.event);
  }

  private async decodeRecords<K extends EventKind>(
    kind: K,
    p: EachBatchPayload,
  ): Promise<{ offset: string; event: EventTypes[K] }[]> {
    const out = [];
    for (const m of p.batch.messages) {
      try {
        out.push({
          offset: m.offset,
          event: this.codec.decodeCached(kind, m.value) ?? (await this.codec.decode(kind, m.value)),
        });
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

  /** Waits for the workflow projection to hold a batch's records; the batch is retried if it does not. */
  private async projected(p: EachBatchPayload, offset: string): Promise<void> {
    const { topic, partition } = p.batch;
    if (await this.workflow.reached(topic, partition, offset, WORKFLOW_WAIT_MS)) return;
    throw new Error(`the workflow projection has not reached ${topic}/${partition}@${offset}`);
  }

  /**
   * Delink outcomes (approved, rejected, completed, failed, cancelled) the workflow applied, to the
   * subscriptions that picked them among the organisations watching the number and the number's
   * operator. The webhook-id comes from the event id, so a replay is the same message.
   */
  private async onDelink(p: EachBatchPayload): Promise<void> {
    const records = (await this.decodeRecords('delink', p)).filter((r) => isDelinkOutcome(r.event.action));
    if (records.length === 0) return;
    await this.projected(p, records[records.length - 1]!.offset);
    const events: DelinkEvent[] = records.map((r) => r.event);
    const now = Date.now();
    const [views, watched] = await Promise.all([
      this.workflow.delink(events),
      this.watch.lookup(
        events.map((e) => e.msisdn),
        now,
      ),
    ]);
    const messages: NewMessage[] = [];
    for (let i = 0; i < records.length; i++) {
      const { event: e, offset } = records[i]!;
      const { verdict, doc } = views[i]!;
      if (!verdict.applied) continue;
      const organisations = new Set(watched[i]!.organisations);
      const operator = doc?.operator ?? e.operator ?? null;
      if (operator) for (const id of await this.operators.organisationsOf(operator)) organisations.add(id);
      const type = `DELINK_${e.action}`;
      for (const organisation of organisations)
        for (const sub of this.byOrganisation.get(organisation)?.values() ?? []) {
          if (!sub.events.includes(type)) continue;
          const id = webhookId(sub.id, e.eventId, type);
          messages.push({
            subscriptionId: sub.id,
            id,
            body: JSON.stringify(delinkCloudEvent(id, e, doc, verdict.step, Number(offset))),
            eventType: type,
            msisdn: e.msisdn,
            sequence: Number(offset),
          });
        }
    }
    await this.queue.enqueue(messages, now, now);
    if (messages.length > 0) this.dispatcher.kick();
  }

  /**
   * A recycled-SIM detection the registry took is a notification to the number's operator (its
   * webhooks); its id comes from the detection's event id, so a replay queues the same one.
   */
  private async onDetections(p: EachBatchPayload): Promise<void> {
    const records = (await this.decodeRecords('recycled-sim', p)).filter(
      (r) => r.event.action === 'DETECTED',
    );
    if (records.length === 0) return;
    await this.projected(p, records[records.length - 1]!.offset);
    const events: RecycledSimEvent[] = records.map((r) => r.event);
    const verdicts = await this.workflow.sims(events);
    const now = Date.now();
    const notices: NotificationEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (!verdicts[i]!.applied) continue;
      const operator = e.operator;
      const organisation = operator ? ((await this.operators.organisationsOf(operator))[0] ?? null) : null;
      notices.push(detectionNotice(e, organisation, now));
    }
    await this.sender!.queue(notices);
  }

  /**
   * A webhook notification's delivery outcome, from the delivery log: DELIVERED once an endpoint
   * took it, FAILED once its retries are spent.
   */
  private async onDeliveryRecords(records: DeliveryRecord[]): Promise<void> {
    for (const r of records) {
      if (r.type !== 'ATTEMPT' || r.eventType !== 'NOTIFICATION') continue;
      const status = r.outcome === 'DELIVERED' ? 'DELIVERED' : r.outcome === 'EXHAUSTED' ? 'FAILED' : null;
      if (!status) continue;
      let id: unknown;
      try {
        id = (JSON.parse(r.body) as { data?: { notificationId?: unknown } }).data?.notificationId;
      } catch {
        continue;
      }
      if (typeof id !== 'string') continue;
      const n = await this.notifications.get(id);
      if (!n || STATUS_RANK[n.status] >= STATUS_RANK[status]) continue;
      await this.sender!.record(n, status, r.attempt, status === 'FAILED' ? r.error : null);
    }
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
      // One serialisation per event of the change, whatever the number of subscriptions.
      const bodies = new Map<string, (id: string) => string>();
      for (const organisation of w.organisations) {
        for (const sub of this.byOrganisation.get(organisation)?.values() ?? []) {
          for (const event of events) {
            if (!sub.events.includes(event)) continue;
            const id = webhookId(sub.id, change.eventId, event);
            let bodyOf = bodies.get(event);
            if (!bodyOf) {
              bodyOf = stateChangeBodies(event, change, step.before);
              bodies.set(event, bodyOf);
            }
            messages.push({
              subscriptionId: sub.id,
              id,
              body: bodyOf(id),
              eventType: event,
              msisdn: change.msisdn,
              sequence: change.version,
            });
          }
        }
      }
    });
    // Independent: a change replayed after a crash gets the same "before" whichever was written.
    await Promise.all([
      this.queue.enqueue(messages, now, now),
      seenUpdates.length > 0 ? seenUpdates.exec() : null,
    ]);
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
    // A QUEUED is sent only while the projection still holds it as QUEUED: a replay, or an intent
    // re-sent after a crash, finds it SENT or further along and is not sent again.
    const due = new Map<string, NotificationEvent>();
    for (const n of events) {
      const held = await this.notifications.apply(n);
      if (n.status === 'QUEUED' && held === 'QUEUED' && !this.sending.has(n.id)) due.set(n.id, n);
      else due.delete(n.id);
    }
    // Sent concurrently; the offset is committed once each has its outcome on the topic.
    await Promise.all(
      [...due.values()].map(async (n) => {
        this.sending.add(n.id);
        try {
          await this.sender!.deliver(n);
        } finally {
          this.sending.delete(n.id);
        }
      }),
    );
  }

  private async redeliver(r: DeliveryRecord): Promise<void> {
    const sub = this.subscription(r.subscriptionId);
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

  /** Active subscription `id` as this worker has applied it from the subscriptions topic. */
  subscription(id: string): Subscription | undefined {
    for (const subs of this.byOrganisation.values()) {
      const s = subs.get(id);
      if (s) return s;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    await this.dispatcher.stop();
    for (const c of this.consumers) await c.disconnect();
    await this.sink?.stop();
    await this.projector?.stop();
    this.email.close();
    this.dispatchRedis.disconnect();
  }
}

async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
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
