import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { partitionFor, quoteIdentifier } from '@hub/infra';
import { sqlString } from '@hub/state/history/queries';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { OutboundCodec } from './codec.ts';

export type DeliveryOutcome = 'DELIVERED' | 'FAILED' | 'EXHAUSTED' | 'DROPPED' | 'REQUESTED';

export interface DeliveryRecord {
  eventId: string;
  source: string;
  type: 'ATTEMPT' | 'REDELIVERY_REQUESTED';
  subscriptionId: string;
  organisation: string;
  webhookId: string;
  eventType: string;
  msisdn: string;
  sequence: number;
  attempt: number;
  outcome: DeliveryOutcome;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
  response: string | null;
  nextAttemptAt: number | null;
  url: string;
  body: string;
  actor: string | null;
  occurredAt: number;
  receivedAt: number;
}

export const DELIVERIES_TABLE = 'webhook_deliveries_v1';

interface Pending {
  records: DeliveryRecord[];
  done: Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}

function newPending(): Pending {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { records: [], done, resolve, reject };
}

/**
 * Delivery records onto the webhook-deliveries topic, gathered for up to 20 ms into one send
 * (an attempt's slot is free before its record is written, so the linger costs no throughput); each caller's promise resolves once the broker has its record (acks=all), so an attempt
 * is on record before the queue forgets the message.
 */
export class DeliveryLog {
  /** The records of the next send, and the one promise their callers wait on. */
  private pending: Pending | null = null;
  /** The topic's partition count once known (usePartitions), and each key's partition under it. */
  private partitions = 0;
  private readonly partitionOf = new Map<string, number>();

  constructor(
    private readonly producer: Producer,
    private readonly codec: OutboundCodec<DeliveryRecord>,
    private readonly topic: string,
    private readonly lingerMs = 20,
  ) {}

  /**
   * Places records by the topic's partition count, each subscription's partition computed once
   * (Kafka's default murmur2 partitioning, as kafkajs would), instead of by kafkajs's partitioner
   * per record, which filters the partition list and hashes the key every time.
   */
  usePartitions(count: number): void {
    this.partitions = count;
    this.partitionOf.clear();
  }

  private partition(key: string): number | undefined {
    if (this.partitions === 0) return undefined;
    let p = this.partitionOf.get(key);
    if (p === undefined) {
      p = partitionFor(key, this.partitions);
      // Subscriptions are few; the bound only guards against a flood of unknown ones.
      if (this.partitionOf.size >= 100_000) this.partitionOf.clear();
      this.partitionOf.set(key, p);
    }
    return p;
  }

  /**
   * Resolves once the broker has the record. The caller hands the object over: it is completed
   * in place (event id, time received) rather than copied, and every record of one send shares
   * one promise, so an attempt costs no object or promise of its own here.
   */
  record(record: Omit<DeliveryRecord, 'eventId' | 'receivedAt'>): Promise<void> {
    const full = record as DeliveryRecord;
    full.eventId = randomUUID();
    full.receivedAt = Date.now();
    let p = this.pending;
    if (!p) {
      p = newPending();
      this.pending = p;
      setTimeout(() => void this.flush(), this.lingerMs);
    }
    p.records.push(full);
    return p.done;
  }

  async flush(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    try {
      const messages = new Array(p.records.length);
      for (let i = 0; i < p.records.length; i++) {
        const r = p.records[i]!;
        messages[i] = {
          key: r.subscriptionId,
          value: this.codec.encode(r),
          partition: this.partition(r.subscriptionId),
        };
      }
      await this.producer.send({ topic: this.topic, acks: -1, messages });
      p.resolve();
    } catch (err) {
      p.reject(err as Error);
    }
  }
}

const ms = (t: number) => Math.floor(t / 1000);

function row(r: DeliveryRecord, partition: number, offset: string) {
  return {
    event_id: r.eventId,
    type: r.type,
    subscription_id: r.subscriptionId,
    organisation: r.organisation,
    webhook_id: r.webhookId,
    event_type: r.eventType,
    msisdn: r.msisdn,
    sequence: r.sequence,
    attempt: r.attempt,
    outcome: r.outcome,
    http_status: r.httpStatus,
    latency_ms: r.latencyMs,
    error: r.error ?? '',
    response: r.response ?? '',
    next_attempt_at: r.nextAttemptAt === null ? null : ms(r.nextAttemptAt),
    url: r.url,
    body: r.body,
    actor: r.actor ?? '',
    occurred_at: ms(r.occurredAt),
    occurred_ms: r.occurredAt,
    received_at: ms(r.receivedAt),
    source_partition: partition,
    source_offset: Number(offset),
  };
}

/**
 * The delivery log in ClickHouse: consumes the webhook-deliveries topic and inserts each batch,
 * committing offsets only after the insert. A batch replayed after a crash inserts rows again;
 * readers take one row per event id.
 */
export class DeliveryLogSink {
  private consumer: Consumer | null = null;

  constructor(
    private readonly o: {
      kafka: Kafka;
      clickhouse: ClickHouseClient;
      database: string;
      codec: OutboundCodec<DeliveryRecord>;
      topic: string;
      groupId: string;
      /** Called for each redelivery request, after it is in ClickHouse. */
      onRedelivery?(r: DeliveryRecord): Promise<void>;
      /** Called with each batch once it is in ClickHouse, before its offsets are committed. */
      onRecords?(records: DeliveryRecord[]): Promise<void>;
    },
  ) {}

  async start(): Promise<void> {
    // A fetch waits for 256 KiB or a second, so ClickHouse gets a few large inserts a second
    // rather than one small part per 20 ms linger of the producer (each part costs it a write
    // and later merges; at thousands of attempts a second that was seconds of its CPU).
    const consumer = this.o.kafka.consumer({
      groupId: this.o.groupId,
      minBytes: 256 * 1024,
      maxWaitTimeInMs: 1000,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
    const table = `${quoteIdentifier(this.o.database)}.${DELIVERIES_TABLE}`;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        if (batch.messages.length === 0) return;
        const records: DeliveryRecord[] = [];
        const rows = [];
        for (const m of batch.messages) {
          const r = await this.o.codec.decode(m.value);
          records.push(r);
          rows.push(row(r, batch.partition, m.offset));
        }
        await this.o.clickhouse.insert({ table, values: rows, format: 'JSONEachRow' });
        for (const r of records) if (r.type === 'REDELIVERY_REQUESTED') await this.o.onRedelivery?.(r);
        await this.o.onRecords?.(records);
        const last = batch.messages[batch.messages.length - 1]!;
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: String(Number(last.offset) + 1) },
        ]);
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}

export interface DeliveryRow {
  eventId: string;
  type: string;
  webhookId: string;
  eventType: string;
  msisdn: string;
  sequence: number;
  attempt: number;
  outcome: string;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
  response: string | null;
  nextAttemptAt: string | null;
  url: string;
  occurredAt: string;
}

/** Reads of the delivery log for the API: newest first, one row per record however often inserted. */
export class DeliveryLogReader {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {}

  private table() {
    return `${quoteIdentifier(this.database)}.${DELIVERIES_TABLE}`;
  }

  async page(
    subscriptionId: string,
    skip: number,
    limit: number,
  ): Promise<{ items: DeliveryRow[]; total: number }> {
    const where = `subscription_id = ${sqlString(subscriptionId)}`;
    const [items, total] = await Promise.all([
      this.clickhouse
        .query({
          query: `SELECT event_id, type, webhook_id, event_type, msisdn, sequence, attempt, outcome, http_status,
                  latency_ms, error, response, next_attempt_at, url, occurred_ms
                  FROM ${this.table()} WHERE ${where}
                  ORDER BY occurred_ms DESC, event_id LIMIT 1 BY event_id LIMIT ${skip}, ${limit}`,
          format: 'JSONEachRow',
        })
        .then((r) => r.json<Record<string, unknown>>()),
      this.clickhouse
        .query({
          query: `SELECT uniqExact(event_id) AS n FROM ${this.table()} WHERE ${where}`,
          format: 'JSONEachRow',
        })
        .then((r) => r.json<{ n: string | number }>()),
    ]);
    return {
      total: Number(total[0]?.n ?? 0),
      items: items.map((r) => ({
        eventId: String(r.event_id),
        type: String(r.type),
        webhookId: String(r.webhook_id),
        eventType: String(r.event_type),
        msisdn: String(r.msisdn),
        sequence: Number(r.sequence),
        attempt: Number(r.attempt),
        outcome: String(r.outcome),
        httpStatus: r.http_status === null ? null : Number(r.http_status),
        latencyMs: Number(r.latency_ms),
        error: r.error ? String(r.error) : null,
        response: r.response ? String(r.response) : null,
        nextAttemptAt: r.next_attempt_at ? `${String(r.next_attempt_at).replace(' ', 'T')}Z` : null,
        url: String(r.url),
        occurredAt: new Date(Number(r.occurred_ms)).toISOString(),
      })),
    };
  }

  /** The newest record of one message (its body and what it concerned), or null. */
  async message(
    subscriptionId: string,
    webhookId: string,
  ): Promise<{ body: string; eventType: string; msisdn: string; sequence: number } | null> {
    const rows = await this.clickhouse
      .query({
        query: `SELECT body, event_type, msisdn, sequence FROM ${this.table()}
                WHERE subscription_id = ${sqlString(subscriptionId)} AND webhook_id = ${sqlString(webhookId)} AND body != ''
                ORDER BY occurred_ms DESC LIMIT 1`,
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ body: string; event_type: string; msisdn: string; sequence: string | number }>());
    const r = rows[0];
    return r
      ? { body: r.body, eventType: r.event_type, msisdn: r.msisdn, sequence: Number(r.sequence) }
      : null;
  }
}
