import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier, type TopicNames } from '@hub/infra';
import type { DataSubjectCodec, EventCodec } from '@hub/schemas';
import { sqlInteger, sqlString } from '@hub/state/history/queries';
import {
  type HistoryKind,
  LATEST_CONFLICTS_TABLE,
  LATEST_STATES_TABLE,
  RAW_TABLES,
  type RawTable,
  SINK_WATERMARKS_TABLE,
  watermarkViewOf,
} from '@hub/state/history/tables';
import type { Admin, Kafka } from 'kafkajs';
import { ErasureFollower } from '../data-subject/follower.ts';
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
import { clickhouseErasure } from './erasure.ts';
import { insertDuration, insertRetries, insertRows, resumeDuration, rowsAlreadyHeld } from './metrics.ts';
import { HISTORY_COLUMNS, type HistoryRow, toHistoryRow } from './rows.ts';

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
    [names.recycledSims, 'recycled-sim'],
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

/** Partitions of one topic whose resume points are read from one raw table. */
export interface StoredRange {
  table: string;
  topic: string;
  partitions: readonly number[];
}

/**
 * The highest stored offset of each partition, from the watermark table that every insert into a
 * raw table updates through that table's watermark view (migration 008): a read of a few rows per
 * partition, however much history the raw tables hold. A partition without a row holds nothing.
 */
export function watermarksQuery(database: string, ranges: readonly StoredRange[]): string {
  const wanted = ranges
    .filter((r) => r.partitions.length > 0)
    .map(
      (r) =>
        `(raw_table = ${sqlString(r.table)} AND kafka_topic = ${sqlString(r.topic)} AND kafka_partition IN (${r.partitions.map(sqlInteger).join(', ')}))`,
    );
  if (wanted.length === 0) throw new Error('watermarksQuery needs at least one partition');
  return `SELECT kafka_topic AS topic, kafka_partition AS partition, toString(max(max_offset)) AS max_offset
FROM ${quoteIdentifier(database)}.${SINK_WATERMARKS_TABLE}
WHERE ${wanted.join(' OR ')}
GROUP BY kafka_topic, kafka_partition`;
}

/**
 * The same from a raw table itself, for a table without a watermark view: max(kafka_offset) per
 * partition, which reads the table's provenance columns whole (it is ordered by number). max() of
 * no rows is 0 rather than NULL, so rows are counted to tell "offset 0" from "nothing".
 */
export function rawMaxOffsetsQuery(database: string, range: StoredRange): string {
  return `SELECT kafka_topic AS topic, kafka_partition AS partition, toString(max(kafka_offset)) AS max_offset, count() AS n
FROM ${quoteIdentifier(database)}.${quoteIdentifier(range.table)}
WHERE kafka_topic = ${sqlString(range.topic)} AND kafka_partition IN (${range.partitions.map(sqlInteger).join(', ')})
GROUP BY kafka_topic, kafka_partition`;
}

/**
 * Where a partition resumes: just after the highest offset ClickHouse holds, or at the earliest
 * offset Kafka still has when it holds nothing (ClickHouse may have been dropped for a rebuild) or
 * less than Kafka keeps. `seek` is false when the consumer would start there by itself: at its
 * group's committed offset, or, without one, at the earliest offset (the sink consumes from the
 * beginning). Skipping such a seek changes nothing stored: the sink also drops every record at or
 * below the held offset, whatever the consumer fetches.
 */
export function resumePoint(
  storedMax: bigint | undefined,
  earliest: bigint,
  committed: bigint,
): { next: bigint; seek: boolean } {
  const next = storedMax === undefined || storedMax + 1n < earliest ? earliest : storedMax + 1n;
  const startsAt = committed >= 0n ? committed : earliest;
  return { next, seek: startsAt !== next };
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
  /** Bytes one fetch returns at most, over all partitions (kafkajs `maxBytes`). */
  maxFetchBytes?: number;
  /** Bytes one fetch returns at most of one partition (kafkajs `maxBytesPerPartition`). */
  maxPartitionFetchBytes?: number;
  /** Tables of one round inserted at the same time at most. */
  insertConcurrency?: number;
  retry?: Partial<RetryPolicy>;
  sessionTimeoutMs?: number;
  /**
   * At most this often, after inserting state changes, the sink asks ClickHouse to merge the
   * latest-state tables (OPTIMIZE, not FINAL), in the background. ClickHouse's own merge selector
   * can leave a few large parts unmerged for long, and on 18.16 a read with FINAL over several
   * parts costs several times one over a single part (the conflicts page: 264 ms p99 over 5 parts,
   * 35 ms over one, at 10 M state changes). Default 60 s; 0 turns it off.
   */
  compactEveryMs?: number;
  log?: Log;
  /**
   * Subscriber erasures (DESIGN "Data-subject rights and erasure"): the sink reads the data-subject
   * topic to its end before it consumes anything, never inserts an erased row (a replay or a
   * rewind cannot bring one back) and deletes what it already holds (processors/src/history/erasure.ts).
   */
  erasures?: { codec: DataSubjectCodec };
}

const NAME = 'history-sink';

/**
 * Kafka → ClickHouse. Each round of partition chunks becomes one insert per raw table, whatever
 * received months the rows span; the offset is committed only after ClickHouse accepted it.
 * ClickHouse is the record of what it holds: the insert also moves the watermark of each partition
 * in it (a materialised view of the raw table into sink_watermarks_v1), and on every assignment the
 * sink seeks each partition to just after its watermark. A failed insert is retried for the rows
 * past the watermark. Should ClickHouse have stored part of a refused insert (one part per month,
 * written one after another, and the watermark only after all of them), those rows are stored
 * twice; every count reads uniq(event_id) states or one row per event id or number, so no count
 * shows them twice.
 */
export class HistorySink {
  private readonly consumer: BatchConsumer<HistoryRow>;
  private readonly kinds: Map<string, HistoryKind>;
  private readonly retry: RetryPolicy;
  private readonly log: Log;
  private readonly db: string;
  private readonly insertConcurrency: number;
  /** Highest offset known to be in ClickHouse, per `topic:partition`; guards against redelivery. */
  private readonly held = new Map<string, bigint>();
  private admin: Admin | null = null;
  private stopped = false;
  private lastCompaction = 0;
  private compaction: Promise<void> | null = null;
  /** Raw tables whose watermark view exists, as of the last assignment. */
  private watermarked = new Set<string>();
  private readonly warnedUnwatermarked = new Set<string>();
  private follower: ErasureFollower | null = null;
  /** The round in flight: an erasure waits for it, since its rows were filtered before the erasure was known. */
  private round: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: HistorySinkOptions) {
    this.kinds = historyTopics(options.topics);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.log = options.log ?? jsonLog(NAME);
    this.db = quoteIdentifier(options.database);
    this.insertConcurrency = options.insertConcurrency ?? 8;
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
        maxBytes: options.maxFetchBytes ?? 16 * 1024 * 1024,
        maxBytesPerPartition: options.maxPartitionFetchBytes ?? 4 * 1024 * 1024,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      },
      log: this.log,
    });
  }

  async start(): Promise<void> {
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    if (this.options.erasures) {
      const erase = clickhouseErasure({
        clickhouse: this.options.clickhouse,
        database: this.options.database,
        kinds: this.kinds,
      });
      this.follower = new ErasureFollower({
        kafka: this.options.kafka,
        codec: this.options.erasures.codec,
        topic: this.options.topics.dataSubject,
        name: NAME,
        log: this.log,
        onErasure: async (event) => {
          // Rows inserted from here on are filtered; the round in flight may still insert erased ones.
          await this.round;
          await erase(event);
        },
      });
      await this.follower.start();
    }
    await this.consumer.start();
  }

  /** Finishes the in-flight insert and commit, leaves the group, disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
    await this.compaction;
    await this.follower?.stop();
    await this.admin?.disconnect();
    this.admin = null;
  }

  /**
   * Seeks every assigned partition to the first offset ClickHouse does not hold, unless the
   * consumer starts there anyway (see resumePoint): a seek makes kafkajs drop the fetch it already
   * has in flight for the partition, which on a fresh replay was most of a second of start-up.
   */
  private async resume(assignment: PartitionAssignment[], seek: Seek): Promise<void> {
    const started = performance.now();
    const ranges: StoredRange[] = [];
    for (const { topic, partitions } of assignment) {
      const kind = this.kinds.get(topic);
      if (kind && partitions.length > 0) ranges.push({ table: RAW_TABLES[kind], topic, partitions });
    }
    if (ranges.length === 0) return;
    const admin = this.admin;
    if (!admin) throw new Error('history sink is not started');
    const topics = ranges.map((r) => r.topic);
    const [stored, committed, earliest] = await Promise.all([
      this.withRetry(SINK_WATERMARKS_TABLE, 'ClickHouse resume-point read', async () => {
        await this.findWatermarkViews();
        return this.storedOffsets(ranges);
      }),
      // Leadership may still be moving right after a topic is created or a broker restarts.
      this.withRetry(SINK_WATERMARKS_TABLE, 'Kafka committed-offset read', async () => {
        const out = new Map<string, bigint>();
        for (const t of await admin.fetchOffsets({ groupId: this.options.groupId, topics })) {
          for (const p of t.partitions) out.set(`${t.topic}:${p.partition}`, BigInt(p.offset));
        }
        return out;
      }),
      this.withRetry(SINK_WATERMARKS_TABLE, 'Kafka topic-offset read', async () => {
        const out = new Map<string, bigint>();
        await Promise.all(
          topics.map(async (topic) => {
            for (const p of await admin.fetchTopicOffsets(topic))
              out.set(`${topic}:${p.partition}`, BigInt(p.low));
          }),
        );
        return out;
      }),
    ]);
    for (const { topic, partitions } of ranges) {
      for (const partition of partitions) {
        const key = `${topic}:${partition}`;
        const max = stored.get(key);
        if (max === undefined) this.held.delete(key);
        else this.held.set(key, max);
        const point = resumePoint(max, earliest.get(key) ?? 0n, committed.get(key) ?? -1n);
        if (point.seek) seek(topic, partition, point.next.toString());
        this.log('info', 'resuming partition after what ClickHouse holds', {
          topic,
          partition,
          storedMaxOffset: max?.toString() ?? null,
          seekTo: point.next.toString(),
          seeked: point.seek,
        });
      }
    }
    resumeDuration.observe((performance.now() - started) / 1000);
  }

  /** Which raw tables have their watermark view; read again on every assignment (a deploy may add one). */
  private async findWatermarkViews(): Promise<void> {
    const tables = [...new Set(this.kinds.values())].map((kind) => RAW_TABLES[kind] as string);
    const result = await this.options.clickhouse.query({
      query: `SELECT name FROM system.tables
WHERE database = ${sqlString(this.options.database)} AND name IN (${tables.map((t) => sqlString(watermarkViewOf(t))).join(', ')})`,
      format: 'JSONEachRow',
    });
    const views = new Set((await result.json<{ name: string }>()).map((r) => r.name));
    this.watermarked = new Set(tables.filter((t) => views.has(watermarkViewOf(t))));
    for (const table of tables) {
      if (!this.watermarked.has(table) && !this.warnedUnwatermarked.has(table)) {
        this.warnedUnwatermarked.add(table);
        this.log('warn', 'raw table has no watermark view: resume points are read from the table itself', {
          table,
          view: watermarkViewOf(table),
        });
      }
    }
  }

  /** Highest stored offset per `topic:partition`, for those that hold anything. */
  private async storedOffsets(ranges: readonly StoredRange[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const read = async (query: string) => {
      const result = await this.options.clickhouse.query({ query, format: 'JSONEachRow' });
      const rows = await result.json<{ topic: string; partition: number; max_offset: string; n?: string }>();
      for (const r of rows) {
        if (r.n === undefined || Number(r.n) > 0)
          out.set(`${r.topic}:${Number(r.partition)}`, BigInt(r.max_offset));
      }
    };
    const fast = ranges.filter((r) => this.watermarked.has(r.table));
    const slow = ranges.filter((r) => !this.watermarked.has(r.table));
    await Promise.all([
      ...(fast.length > 0 ? [read(watermarksQuery(this.options.database, fast))] : []),
      ...slow.map((r) => read(rawMaxOffsetsQuery(this.options.database, r))),
    ]);
    return out;
  }

  /**
   * One round: every table's chunks are inserted together (the tables concurrently), and each
   * partition is committed by the consumer once the round resolves.
   */
  private handle(batches: readonly PartitionBatch<HistoryRow>[]): Promise<undefined> {
    const done = this.handleRound(batches);
    this.round = done.catch(() => undefined);
    return done;
  }

  private async handleRound(input: readonly PartitionBatch<HistoryRow>[]): Promise<undefined> {
    const erasures = this.follower?.erasures;
    // An erased row is committed past but never inserted; ClickHouse's max offset may then lag the
    // commit, and a resume from it reads the erased rows again and skips them again.
    const batches =
      erasures && erasures.size > 0
        ? input.map((b) => ({
            ...b,
            records: b.records.filter((r) => {
              const msisdn = r.value.msisdn;
              return !(msisdn !== null && erasures.erases(msisdn, b.topic, b.partition, r.offset));
            }),
          }))
        : input;
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
    // A table's insert is mostly ClickHouse writing one part per month and view; more of them at
    // once than it has cores only makes them contend.
    const work = [...byTable];
    const workers = Math.min(work.length, this.insertConcurrency);
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let next = work.shift(); next; next = work.shift()) await this.insertTable(next[0], next[1]);
      }),
    );
    return undefined;
  }

  /**
   * Inserts the chunks of several partitions into one table, in one insert: of every partition in
   * it, a run of rows that directly follows what earlier inserts took, so the partition's
   * watermark after the insert marks exactly what ClickHouse holds.
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
        // wrote it): keep only what is past the watermarks.
        const byTopic = new Map<string, number[]>();
        for (const p of pending.values())
          byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
        const stored = await this.storedOffsets(
          [...byTopic].map(([topic, partitions]) => ({ table, topic, partitions })),
        );
        for (const [key, p] of pending) {
          const max = stored.get(key);
          if (max === undefined) continue;
          const before = p.rows.length;
          p.rows = p.rows.filter((r) => BigInt(r.offset) > max);
          if (p.rows.length < before) rowsAlreadyHeld.inc({ table }, before - p.rows.length);
          this.held.set(key, max);
          if (p.rows.length === 0) pending.delete(key);
        }
        if (pending.size === 0) return;
      }
      const lines: string[] = [];
      for (const p of pending.values()) for (const r of p.rows) lines.push(r.value.line);
      const rows = lines.length;
      lines.push(''); // the last line's newline
      const timer = insertDuration.startTimer({ table });
      await this.options.clickhouse.insert({
        table: `${this.db}.${table}`,
        columns: [...HISTORY_COLUMNS[table]] as [string, ...string[]],
        values: Readable.from([Buffer.from(lines.join('\n'))], { objectMode: false }),
        format: 'TabSeparated',
      });
      timer();
      insertRows.observe({ table }, rows);
      for (const [key, p] of pending) this.held.set(key, BigInt(p.rows[p.rows.length - 1]!.offset));
      if (table === RAW_TABLES['state-change']) this.compactLatestStates();
    });
  }

  /** Starts a merge of the latest-state tables unless one runs or ran within `compactEveryMs`. */
  private compactLatestStates(): void {
    const every = this.options.compactEveryMs ?? 60_000;
    if (every <= 0 || this.compaction !== null || Date.now() - this.lastCompaction < every) return;
    this.lastCompaction = Date.now();
    this.compaction = (async () => {
      for (const table of [LATEST_CONFLICTS_TABLE, LATEST_STATES_TABLE]) {
        await this.options.clickhouse.command({ query: `OPTIMIZE TABLE ${this.db}.${table}` });
      }
    })()
      .catch((err: unknown) =>
        this.log('warn', 'merging the latest-state tables failed', { error: String(err) }),
      )
      .finally(() => {
        this.compaction = null;
      });
  }

  /**
   * Runs `attempt` until it succeeds, backing off (doubling, capped) between failures; gives up
   * after `giveUpAfterMs` by throwing, which leaves the batch uncommitted (see RetryPolicy).
   */
  private async withRetry<T>(
    table: RawTable | typeof SINK_WATERMARKS_TABLE,
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
