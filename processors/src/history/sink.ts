import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier, type TopicNames } from '@hub/infra';
import type { EventCodec } from '@hub/schemas';
import { sqlInteger, sqlString } from '@hub/state/history/queries';
import { type HistoryKind, RAW_TABLES, type RawTable } from '@hub/state/history/tables';
import type { Admin, Kafka } from 'kafkajs';
import {
  avroDecoder,
  BatchConsumer,
  type ConsumedRecord,
  type DeadLetterSink,
  deadLetter,
  jsonLog,
  type Log,
  ok,
  type PartitionAssignment,
  type PartitionBatch,
  type RecordDecoder,
  type Seek,
  type StepResult,
} from '../kafka/index.ts';
import { insertDuration, insertRetries, insertRows, rowsAlreadyHeld } from './metrics.ts';
import { type HistoryRow, type Row, toHistoryRow } from './rows.ts';

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
  return avroDecoder(codec, kind, (message, ctx, event): StepResult<HistoryRow> => {
    const result = toHistoryRow(kind, event, {
      topic: ctx.topic,
      partition: ctx.partition,
      offset: message.offset,
    });
    return result.ok ? ok(result.value) : deadLetter('history-row', result.reason);
  });
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

  /**
   * One round: every table's chunks are inserted together (the tables concurrently), and each
   * partition is committed by the consumer once the round resolves.
   */
  private async handle(batches: readonly PartitionBatch<HistoryRow>[]): Promise<undefined> {
    const byTable = new Map<RawTable, PartitionBatch<HistoryRow>[]>();
    for (const batch of batches) {
      const kind = this.kinds.get(batch.topic);
      if (!kind) throw new Error(`history sink got a batch from unexpected topic ${batch.topic}`);
      const table = RAW_TABLES[kind];
      let list = byTable.get(table);
      if (!list) {
        list = [];
        byTable.set(table, list);
      }
      list.push(batch);
    }
    await Promise.all([...byTable].map(([table, list]) => this.insertTable(table, list)));
    return undefined;
  }

  /**
   * Inserts the chunks of several partitions into one table. Each insert holds rows of one
   * received month only (one part: it lands whole or not at all) and, of every partition in it, a
   * run of rows that directly follows what earlier inserts took, so whatever subset of inserts
   * landed, ClickHouse's max offset per partition still marks exactly what it holds.
   */
  private async insertTable(table: RawTable, batches: PartitionBatch<HistoryRow>[]): Promise<void> {
    const pending = new Map<
      string,
      { topic: string; partition: number; rows: ConsumedRecord<HistoryRow>[] }
    >();
    for (const batch of batches) {
      const key = `${batch.topic}:${batch.partition}`;
      const known = this.held.get(key);
      let rows = batch.records;
      if (known !== undefined) {
        rows = rows.filter((r) => BigInt(r.offset) > known);
        if (rows.length < batch.records.length) {
          rowsAlreadyHeld.inc({ table }, batch.records.length - rows.length);
        }
      }
      if (rows.length > 0) pending.set(key, { topic: batch.topic, partition: batch.partition, rows });
    }
    if (pending.size === 0) return;

    await this.withRetry(table, 'ClickHouse insert', async (failedBefore) => {
      if (failedBefore) {
        // The failed insert may have landed anyway (e.g. the connection dropped after ClickHouse
        // wrote it): keep only what ClickHouse does not hold yet.
        const byTopic = new Map<string, number[]>();
        for (const p of pending.values())
          byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
        for (const [topic, partitions] of byTopic) {
          const stored = await this.storedMaxOffsets(table, topic, partitions);
          for (const partition of partitions) {
            const max = stored.get(partition);
            const key = `${topic}:${partition}`;
            const p = pending.get(key);
            if (max === undefined || !p) continue;
            const before = p.rows.length;
            p.rows = p.rows.filter((r) => BigInt(r.offset) > max);
            if (p.rows.length < before) rowsAlreadyHeld.inc({ table }, before - p.rows.length);
            this.held.set(key, max);
            if (p.rows.length === 0) pending.delete(key);
          }
        }
      }
      while (pending.size > 0) {
        // The earliest month any partition is at; every partition whose next row is of that month
        // contributes its run of it. Rows of one partition usually arrive in month order, so a
        // round costs one insert per month it spans (live traffic: one).
        let month = Number.POSITIVE_INFINITY;
        for (const p of pending.values()) month = Math.min(month, p.rows[0]!.value.month);
        const values: Row[] = [];
        const taken: { key: string; end: number; last: string }[] = [];
        for (const [key, p] of pending) {
          let end = 0;
          while (end < p.rows.length && p.rows[end]!.value.month === month) {
            values.push(p.rows[end]!.value.row);
            end++;
          }
          if (end > 0) taken.push({ key, end, last: p.rows[end - 1]!.offset });
        }
        const timer = insertDuration.startTimer({ table });
        await this.options.clickhouse.insert({
          table: `${this.db}.${table}`,
          values,
          format: 'JSONEachRow',
        });
        timer();
        insertRows.observe({ table }, values.length);
        for (const { key, end, last } of taken) {
          const p = pending.get(key)!;
          this.held.set(key, BigInt(last));
          if (end === p.rows.length) pending.delete(key);
          else p.rows = p.rows.slice(end);
        }
      }
    });
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
