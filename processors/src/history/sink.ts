import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier, type TopicNames } from '@hub/infra';
import { type EventCodec, type EventTypes, UndecodableRecordError } from '@hub/schemas';
import type { Admin, Kafka } from 'kafkajs';
import {
  BatchConsumer,
  type DeadLetterSink,
  deadLetter,
  jsonLog,
  type Log,
  ok,
  type PartitionAssignment,
  type PartitionBatch,
  type RecordDecoder,
  type RecordRejection,
  type Seek,
} from '../kafka/index.ts';
import { insertDuration, insertRetries, insertRows, rowsAlreadyHeld } from './metrics.ts';
import { sqlInteger, sqlString } from './queries.ts';
import { type HistoryRow, toHistoryRow } from './rows.ts';
import { type HistoryKind, RAW_TABLES, type RawTable } from './tables.ts';

/** The topics the sink records and the event family on each (every fact topic except dead letters). */
export function historyTopics(names: TopicNames): Map<string, HistoryKind> {
  return new Map<string, HistoryKind>([
    [names.statusUpdates, 'status-update'],
    [names.ninLinkages, 'nin-linkage'],
    [names.bvnLinkages, 'bvn-linkage'],
    [names.delink, 'delink'],
    [names.verifications, 'verification'],
    [names.stateChanges, 'state-change'],
    [names.audit, 'audit'],
  ]);
}

/**
 * Decodes a record straight into its raw-table row. The sink records what is on the topic: unlike
 * the state builder it does not refuse a record for its key or partition (history keeps the fact;
 * the state builder dead-letters or re-routes it). It refuses only what it cannot decode or store.
 */
export function historyDecoder<K extends HistoryKind>(codec: EventCodec, kind: K): RecordDecoder<HistoryRow> {
  return async (message, ctx) => {
    let event: EventTypes[K];
    try {
      event = await codec.decode(kind, message.value);
    } catch (err) {
      if (err instanceof UndecodableRecordError) return deadLetter('decode', err.message);
      throw err;
    }
    const result = toHistoryRow(kind, event, {
      topic: ctx.topic,
      partition: ctx.partition,
      offset: message.offset,
    });
    return result.ok ? ok(result.value) : deadLetter('history-row', result.reason);
  };
}

export interface RetryPolicy {
  /** First back-off delay. */
  initialDelayMs: number;
  /** Cap of the doubling delay. */
  maxDelayMs: number;
  /**
   * How long one batch keeps retrying in place before the handler gives up and throws. The consumer
   * sends no heartbeats while a handler waits, so this stays below the session timeout; kafkajs
   * then restarts the consumer, whose rejoin re-reads the resume points from ClickHouse: the sink
   * keeps its place for as long as ClickHouse is away.
   */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialDelayMs: 200, maxDelayMs: 5000, giveUpAfterMs: 20_000 };

export interface HistorySinkOptions {
  kafka: Kafka;
  clickhouse: ClickHouseClient;
  database: string;
  codec: EventCodec;
  topics: TopicNames;
  groupId: string;
  deadLetters: DeadLetterSink;
  /** Records per insert at most (a fetched partition batch is split into chunks of this size). */
  maxBatchRows?: number;
  /**
   * The broker answers a fetch once this many bytes are ready or `maxWaitMs` has passed, whichever
   * comes first: that is what batches inserts by size or time under a trickle of events.
   */
  fetchMinBytes?: number;
  maxWaitMs?: number;
  retry?: Partial<RetryPolicy>;
  sessionTimeoutMs?: number;
  log?: Log;
}

const NAME = 'history-sink';

/**
 * Kafka → ClickHouse. Each partition chunk becomes one insert per received month into its topic's
 * raw table (one insert of one month is one part, so it lands whole or not at all); the offset is
 * committed only after ClickHouse accepted it. ClickHouse is the record of what it holds: on every
 * assignment the sink seeks each partition to just after max(kafka_offset) stored for it, and a
 * failed insert is retried only for the rows ClickHouse still lacks, so no row is inserted twice
 * and the rollups' materialised views never see a row twice.
 */
export class HistorySink {
  private readonly consumer: BatchConsumer<HistoryRow>;
  private readonly kinds: Map<string, HistoryKind>;
  private readonly retry: RetryPolicy;
  private readonly log: Log;
  private readonly db: string;
  /** Highest offset known to be in ClickHouse, per `topic:partition`; guards against redelivery. */
  private readonly held = new Map<string, bigint>();
  private admin: Admin | null = null;
  private stopped = false;

  constructor(private readonly options: HistorySinkOptions) {
    this.kinds = historyTopics(options.topics);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.log = options.log ?? jsonLog(NAME);
    this.db = quoteIdentifier(options.database);
    const decoders = new Map(
      [...this.kinds].map(([topic, kind]) => [topic, historyDecoder(options.codec, kind)] as const),
    );
    this.consumer = new BatchConsumer<HistoryRow>({
      kafka: options.kafka,
      groupId: options.groupId,
      name: NAME,
      topics: decoders,
      handle: (batch) => this.handle(batch),
      deadLetters: options.deadLetters,
      fromBeginning: true,
      maxChunkSize: options.maxBatchRows ?? 5000,
      onAssigned: (assignment, seek) => this.resume(assignment, seek),
      consumerConfig: {
        minBytes: options.fetchMinBytes ?? 256 * 1024,
        maxWaitTimeInMs: options.maxWaitMs ?? 1000,
        maxBytesPerPartition: 4 * 1024 * 1024,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      },
      log: this.log,
    });
  }

  async start(): Promise<void> {
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    await this.consumer.start();
  }

  /** Finishes the in-flight insert and commit, leaves the group, disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
    await this.admin?.disconnect();
    this.admin = null;
  }

  /** Seeks every assigned partition to the first offset ClickHouse does not hold. */
  private async resume(assignment: PartitionAssignment[], seek: Seek): Promise<void> {
    for (const { topic, partitions } of assignment) {
      const kind = this.kinds.get(topic);
      if (!kind || partitions.length === 0) continue;
      const stored = await this.withRetry(RAW_TABLES[kind], 'ClickHouse resume-point read', () =>
        this.storedMaxOffsets(RAW_TABLES[kind], topic, partitions),
      );
      const admin = this.admin;
      if (!admin) throw new Error('history sink is not started');
      // Leadership may still be moving right after a topic is created or a broker restarts.
      const offsets = await this.withRetry(RAW_TABLES[kind], 'Kafka topic-offset read', () =>
        admin.fetchTopicOffsets(topic),
      );
      const low = new Map(offsets.map((p) => [p.partition, BigInt(p.low)] as const));
      for (const partition of partitions) {
        const max = stored.get(partition);
        const key = `${topic}:${partition}`;
        if (max === undefined) this.held.delete(key);
        else this.held.set(key, max);
        // Nothing stored: replay the whole partition (ClickHouse may have been dropped for a rebuild).
        const earliest = low.get(partition) ?? 0n;
        const next = max === undefined || max + 1n < earliest ? earliest : max + 1n;
        seek(topic, partition, next.toString());
        this.log('info', 'resuming partition after what ClickHouse holds', {
          topic,
          partition,
          storedMaxOffset: max?.toString() ?? null,
          seekTo: next.toString(),
        });
      }
    }
  }

  private async storedMaxOffsets(
    table: RawTable,
    topic: string,
    partitions: readonly number[],
  ): Promise<Map<number, bigint>> {
    // max() of no rows is 0 rather than NULL, so rows are counted to tell "offset 0" from "nothing".
    const result = await this.options.clickhouse.query({
      query: `SELECT kafka_partition AS partition, toString(max(kafka_offset)) AS max_offset, count() AS n
FROM ${this.db}.${table}
WHERE kafka_topic = ${sqlString(topic)} AND kafka_partition IN (${partitions.map(sqlInteger).join(', ')})
GROUP BY kafka_partition`,
      format: 'JSONEachRow',
    });
    const rows = await result.json<{ partition: number; max_offset: string; n: string }>();
    return new Map(
      rows.filter((r) => Number(r.n) > 0).map((r) => [Number(r.partition), BigInt(r.max_offset)]),
    );
  }

  private async handle(batch: PartitionBatch<HistoryRow>): Promise<readonly RecordRejection[]> {
    const kind = this.kinds.get(batch.topic);
    if (!kind) throw new Error(`history sink got a batch from unexpected topic ${batch.topic}`);
    const table = RAW_TABLES[kind];
    const key = `${batch.topic}:${batch.partition}`;
    const known = this.held.get(key);
    let records = batch.records;
    if (known !== undefined) {
      records = records.filter((r) => BigInt(r.offset) > known);
      if (records.length < batch.records.length) {
        rowsAlreadyHeld.inc({ table }, batch.records.length - records.length);
      }
    }
    if (records.length === 0) return [];

    let pending = records;
    await this.withRetry(table, 'ClickHouse insert', async (failedBefore) => {
      if (failedBefore) {
        // The failed insert may have landed anyway (e.g. the connection dropped after ClickHouse
        // wrote it): keep only what ClickHouse does not hold yet.
        const stored = (await this.storedMaxOffsets(table, batch.topic, [batch.partition])).get(
          batch.partition,
        );
        if (stored !== undefined) {
          const before = pending.length;
          pending = pending.filter((r) => BigInt(r.offset) > stored);
          if (pending.length < before) rowsAlreadyHeld.inc({ table }, before - pending.length);
        }
      }
      // One insert per run of one received month, in offset order: each insert is one part, so if
      // a later run fails, the stored max offset still marks exactly what landed.
      while (pending.length > 0) {
        const month = pending[0]!.value.month;
        let end = 1;
        while (end < pending.length && pending[end]!.value.month === month) end++;
        const run = pending.slice(0, end);
        const timer = insertDuration.startTimer({ table });
        await this.options.clickhouse.insert({
          table: `${this.db}.${table}`,
          values: run.map((r) => r.value.row),
          format: 'JSONEachRow',
        });
        timer();
        insertRows.observe({ table }, run.length);
        pending = pending.slice(end);
      }
    });
    this.held.set(key, BigInt(records[records.length - 1]!.offset));
    return [];
  }

  /**
   * Runs `attempt` until it succeeds, backing off (doubling, capped) between failures; gives up
   * after `giveUpAfterMs` by throwing, which leaves the batch uncommitted (see RetryPolicy).
   */
  private async withRetry<T>(
    table: RawTable,
    what: string,
    attempt: (failedBefore: boolean) => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    let delay = this.retry.initialDelayMs;
    let failedBefore = false;
    for (;;) {
      try {
        return await attempt(failedBefore);
      } catch (err) {
        failedBefore = true;
        insertRetries.inc({ table });
        const elapsed = Date.now() - started;
        if (this.stopped || elapsed + delay > this.retry.giveUpAfterMs) {
          this.log('error', `${what} failed; giving up on this attempt`, {
            table,
            elapsedMs: elapsed,
            error: String(err),
          });
          throw err;
        }
        this.log('warn', `${what} failed; retrying`, {
          table,
          retryInMs: delay,
          error: String(err),
        });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }
}
