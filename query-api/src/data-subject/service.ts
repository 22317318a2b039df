import { type Config, createKafka, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { DataSubjectPublisher, type PublishedDataSubjectEvent } from '@hub/ingest';
import { DataSubjectCodec, type DataSubjectEvent } from '@hub/schemas';
import type { Consumer, Kafka, Producer } from 'kafkajs';

/** Request types a subscriber's request can have (Reconix "NDPR data subject request"). */
export const SUBSCRIBER_REQUEST_TYPES = ['ACCESS', 'RECTIFICATION', 'ERASURE', 'OBJECTION'] as const;
export type SubscriberRequestType = (typeof SUBSCRIBER_REQUEST_TYPES)[number];
/** An account holder's own erasure (delete-my-data). */
export type RequestType = SubscriberRequestType | 'ACCOUNT_ERASURE';
export const REQUEST_STATUSES = ['RECEIVED', 'ASSIGNED', 'COMPLETED', 'REJECTED'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** Consent purposes an account holder decides on. */
export const CONSENT_PURPOSES = ['PRODUCT_EMAILS', 'ANALYTICS', 'NOTIFICATIONS'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/**
 * Days the hub has to answer a data-subject request: the NDPR (2019, art. 3.1) and its
 * Implementation Framework give a month; the Nigeria Data Protection Act 2023 keeps that deadline.
 */
export const RESPONSE_DAYS = 30;

export interface DataSubjectRequest {
  id: string;
  type: RequestType;
  subjectType: 'SUBSCRIBER' | 'ACCOUNT';
  /** MSISDN (subscriber) or user id (account). */
  subject: string;
  status: RequestStatus;
  filedBy: string;
  organisation: string;
  dueDate: string;
  assignee: string | null;
  note: string | null;
  outcome: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConsentRecord {
  purpose: string;
  granted: boolean;
  changedAt: number;
  actor: string;
}

function parse(details: string): Record<string, unknown> {
  try {
    const v = JSON.parse(details) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Data-subject requests and consents: every change is an event on the data-subject topic, and
 * this is its projection. Like the accounts projector it runs inside each API process and reads
 * the topic from the start (it is small: requests and consent changes, not traffic), so every
 * instance answers from the same record, and a publish waits until this instance holds it.
 * An account's erasure drops its consents here too.
 */
export class DataSubjectService {
  private readonly requests = new Map<string, DataSubjectRequest>();
  private readonly consents = new Map<string, Map<string, ConsentRecord>>();
  private readonly next = new Map<number, number>();
  private waiters: { partition: number; offset: number; resolve: () => void }[] = [];
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private publisher: DataSubjectPublisher | null = null;
  private starting: Promise<void> | null = null;

  constructor(private readonly config: Config) {}

  /** Connects and catches up once; every caller awaits the same start. */
  ready(): Promise<void> {
    this.starting ??= this.start().catch((err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const kafka: Kafka = createKafka(this.config);
    const topics = topicNames(this.config.TOPIC_PREFIX);
    const codec = new DataSubjectCodec(createSchemaRegistry(this.config));
    await codec.register(topics.dataSubject);
    const producer = createProducer(kafka);
    await producer.connect();
    this.producer = producer;
    this.publisher = new DataSubjectPublisher({ producer, codec, topics });
    const admin = kafka.admin();
    await admin.connect();
    let ends: { partition: number; high: string }[];
    try {
      ends = await admin.fetchTopicOffsets(topics.dataSubject);
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({
      groupId: `data-subject-projection-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: topics.dataSubject, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const m of batch.messages) {
          try {
            this.apply(await codec.decode(m.value));
          } catch {
            // An undecodable record is the state builder's to dead-letter; it changes nothing here.
          }
          this.markRead(batch.partition, Number(m.offset) + 1);
        }
        await heartbeat();
      },
    });
    await Promise.all(ends.map((e) => this.waitFor(e.partition, Number(e.high))));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /** Publishes one event and resolves once this instance's projection holds it. */
  async publish(fields: Parameters<DataSubjectPublisher['publish']>[0]): Promise<PublishedDataSubjectEvent> {
    await this.ready();
    const published = await this.publisher!.publish(fields);
    await this.waitFor(published.partition, published.offset + 1);
    return published;
  }

  /** Orders a subscriber's erasure (the state builder decides its position, see ingest/src/data-subject.ts). */
  async eraseSubscriber(
    msisdn: string,
    requestId: string,
    actor: string,
  ): Promise<PublishedDataSubjectEvent> {
    await this.ready();
    return this.publisher!.eraseSubscriber(msisdn, requestId, actor);
  }

  request(id: string): DataSubjectRequest | null {
    return this.requests.get(id) ?? null;
  }

  /** Requests, newest first, optionally only those filed by `filedBy` or about `subject`. */
  list(filter: { filedBy?: string; subject?: string; status?: RequestStatus } = {}): DataSubjectRequest[] {
    return [...this.requests.values()]
      .filter(
        (r) =>
          (filter.filedBy === undefined || r.filedBy === filter.filedBy) &&
          (filter.subject === undefined || r.subject === filter.subject) &&
          (filter.status === undefined || r.status === filter.status),
      )
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
  }

  consentsOf(subject: string): ConsentRecord[] {
    return [...(this.consents.get(subject)?.values() ?? [])].sort((a, b) =>
      a.purpose.localeCompare(b.purpose),
    );
  }

  waitFor(partition: number, nextOffset: number): Promise<void> {
    if (nextOffset <= 0 || (this.next.get(partition) ?? 0) >= nextOffset) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ partition, offset: nextOffset, resolve }));
  }

  private markRead(partition: number, next: number): void {
    if ((this.next.get(partition) ?? 0) < next) this.next.set(partition, next);
    const done = this.waiters.filter((w) => w.partition === partition && w.offset <= next);
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }

  private apply(e: DataSubjectEvent): void {
    const d = parse(e.details);
    const id = e.requestId;
    switch (e.type) {
      case 'CONSENT_GRANTED':
      case 'CONSENT_WITHDRAWN': {
        if (!e.purpose) return;
        let byPurpose = this.consents.get(e.subject);
        if (!byPurpose) {
          byPurpose = new Map();
          this.consents.set(e.subject, byPurpose);
        }
        byPurpose.set(e.purpose, {
          purpose: e.purpose,
          granted: e.type === 'CONSENT_GRANTED',
          changedAt: e.occurredAt,
          actor: e.actor,
        });
        return;
      }
      case 'REQUEST_FILED': {
        if (!id || this.requests.has(id)) return;
        this.requests.set(id, {
          id,
          type: (str(d.type) ?? 'ACCESS') as RequestType,
          subjectType: e.subjectType,
          subject: e.subject,
          status: 'RECEIVED',
          filedBy: e.actor,
          organisation: str(d.organisation) ?? '',
          dueDate: str(d.dueDate) ?? '',
          assignee: null,
          note: str(d.note),
          outcome: null,
          createdAt: e.occurredAt,
          updatedAt: e.occurredAt,
        });
        return;
      }
      case 'REQUEST_ASSIGNED':
      case 'REQUEST_FULFILLED':
      case 'REQUEST_REJECTED': {
        const r = id ? this.requests.get(id) : undefined;
        if (!r) return;
        r.updatedAt = e.occurredAt;
        if (e.type === 'REQUEST_ASSIGNED') {
          r.status = 'ASSIGNED';
          r.assignee = str(d.assignee);
        } else {
          r.status = e.type === 'REQUEST_FULFILLED' ? 'COMPLETED' : 'REJECTED';
          r.outcome = (d.outcome as Record<string, unknown> | undefined) ?? null;
          r.note = str(d.note) ?? r.note;
        }
        return;
      }
      case 'ACCOUNT_ERASED':
        this.consents.delete(e.subject);
        return;
      default:
        return;
    }
  }
}
