import type { Consumer, ConsumerConfig, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { batchDuration, batchSize, consumerLag, recordsConsumed } from '../metrics.ts';
import type { DeadLetterInput, DeadLetterSink } from './dead-letters.ts';
import type { DecodeContext, RecordDecoder } from './decoders.ts';
import { jsonLog, type Log } from './logger.ts';
import type { RecordRejection, StepFailure } from './results.ts';

export interface ConsumedRecord<V> {
  /** Kafka offset as a decimal string (offsets are int64). */
  offset: string;
  key: Buffer | null;
  value: V;
  headers: IHeaders;
  /** Record timestamp, epoch milliseconds as a decimal string. */
  timestamp: string;
}

/** Decoded, valid records of one partition chunk, in offset order. */
export interface PartitionBatch<V> {
  topic: string;
  partition: number;
  records: ConsumedRecord<V>[];
}

/**
 * Applies the chunks of one round: chunks of several partitions (and topics) that arrived in the
 * same fetch, handed over together so that their side effects share round trips (one Redis
 * pipeline, one ClickHouse insert per table). Every batch is of a different partition. Resolve
 * only once all their side effects are durable: the consumer commits every partition of the round
 * right after. It may return, per batch (same index), rejections for records it refuses
 * (dead-lettered or dropped by the consumer, like decode failures). Throwing fails the round:
 * nothing of it is committed and kafkajs restarts the consumer, which re-delivers from the last
 * commit.
 */
export type BatchHandler<V> = (
  batches: readonly PartitionBatch<V>[],
) => Promise<undefined | readonly (readonly RecordRejection[] | undefined)[]>;

export interface PartitionAssignment {
  topic: string;
  partitions: number[];
}

/** Moves a partition's next fetch to `offset` (e.g. a sink's own resume point). */
export type Seek = (topic: string, partition: number, offset: string) => void;

export interface BatchConsumerOptions<V> {
  kafka: Kafka;
  groupId: string;
  /** Label for metrics and logs, e.g. `state-builder`. */
  name: string;
  /** Topic name → decoder. Every topic listed is subscribed. */
  topics: ReadonlyMap<string, RecordDecoder<V>>;
  handle: BatchHandler<V>;
  deadLetters: DeadLetterSink;
  /** Where a group without committed offsets starts (default: the beginning, since topics are the record). */
  fromBeginning?: boolean;
  /**
   * Records of one partition handed to the handler at once; a fetched partition batch is split
   * into chunks of this size, each committed before the next starts, with a heartbeat in between
   * (default 5000).
   */
  maxChunkSize?: number;
  /**
   * Partitions whose batches are processed at the same time, their chunks joined into one round
   * (default: every partition of the subscribed topics, so one fetch makes one round).
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Called after every group join with this member's partitions. Fetching for the assigned
   * partitions waits until it resolves, so seeks made through `seek` take effect before any record
   * of those partitions is handed to the handler.
   */
  onAssigned?: (assignment: PartitionAssignment[], seek: Seek) => Promise<void>;
  /** Passed to kafkajs `consumer()`; groupId is always the one above. */
  consumerConfig?: Omit<ConsumerConfig, 'groupId'>;
  log?: Log;
}

type Failure = { message: KafkaMessage; result: StepFailure };

/** One partition chunk waiting for (or taking part in) a round. */
interface Pending<V> {
  batch: PartitionBatch<V>;
  messages: KafkaMessage[];
  failures: Failure[];
  resolveOffset: (offset: string) => void;
  commit: EachBatchPayload['commitOffsetsIfNecessary'];
  done: (error?: unknown) => void;
}

/**
 * kafkajs consumer runner with explicit commits: `eachBatch`, no auto-resolve, no auto-commit.
 * kafkajs hands the partition batches of one fetch to concurrent `eachBatch` calls; each decodes
 * its next chunk (synchronously when the codec has the writer schema) and queues it. The queued
 * chunks of all partitions form a round: one handler call, one publish of the round's dead letters,
 * then one offset commit of highest offset + 1 for every partition in it. A partition's next chunk
 * joins a later round, so each partition still commits strictly in order and only after the side
 * effects of everything before. Bad records never stop a partition. kafkajs fetches at most
 * `maxBytes` per fetch and waits for every batch of a fetch before the next, so nothing is
 * buffered without bound: a slow handler slows fetching down.
 */
export class BatchConsumer<V> {
  private consumer: Consumer | null = null;
  private readonly partitionCounts = new Map<string, number>();
  private assignmentGate: Promise<void> = Promise.resolve();
  private readonly log: Log;
  private readonly chunkSize: number;
  private stopping: Promise<void> | null = null;
  private queued: Pending<V>[] = [];
  private roundScheduled = false;
  private roundRunning = false;

  constructor(private readonly options: BatchConsumerOptions<V>) {
    this.log = options.log ?? jsonLog(options.name);
    this.chunkSize = options.maxChunkSize ?? 5000;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) {
      throw new Error(`maxChunkSize must be a positive integer, got ${options.maxChunkSize}`);
    }
    if (options.topics.size === 0) throw new Error('BatchConsumer needs at least one topic');
  }

  /** Connects, subscribes and starts consuming; resolves once the consumer is running. */
  async start(): Promise<void> {
    const { kafka, groupId, topics } = this.options;
    await this.readPartitionCounts([...topics.keys()]);
    const consumer = kafka.consumer({
      maxBytesPerPartition: 2 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
      ...this.options.consumerConfig,
      groupId,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      this.log('error', 'consumer crashed', {
        groupId,
        error: String(e.payload.error),
        restart: e.payload.restart,
      });
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const assignment = Object.entries(e.payload.memberAssignment).map(([topic, partitions]) => ({
        topic,
        partitions: [...partitions],
      }));
      this.log('info', 'partitions assigned', { groupId, assignment });
      const hook = this.options.onAssigned;
      if (hook) {
        const seek: Seek = (topic, partition, offset) => consumer.seek({ topic, partition, offset });
        this.assignmentGate = hook(assignment, seek);
      }
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...topics.keys()],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    let partitions = 0;
    for (const n of this.partitionCounts.values()) partitions += n;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, this.options.partitionsConsumedConcurrently ?? partitions),
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /**
   * Lets the in-flight round finish (handler, dead letters, commit), then leaves the group and
   * disconnects. Safe to call more than once.
   */
  stop(): Promise<void> {
    if (!this.stopping) {
      const consumer = this.consumer;
      this.stopping = consumer ? consumer.stop().then(() => consumer.disconnect()) : Promise.resolve();
    }
    return this.stopping;
  }

  private async readPartitionCounts(topics: string[]): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      for (const t of metadata.topics) this.partitionCounts.set(t.name, t.partitions.length);
    } finally {
      await admin.disconnect();
    }
    for (const t of topics) {
      if (!this.partitionCounts.get(t)) throw new Error(`topic ${t} does not exist or has no partitions`);
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    await this.assignmentGate;
    const { topic, partition } = batch;
    const decode = this.options.topics.get(topic);
    if (!decode) throw new Error(`received a batch from unsubscribed topic ${topic}`);
    const ctx: DecodeContext = { topic, partition, partitionCount: this.partitionCounts.get(topic) ?? 0 };
    const consumerLabel = this.options.name;

    for (let start = 0; start < batch.messages.length; start += this.chunkSize) {
      // A stale batch was overtaken by a seek or rebalance; stopping finishes at a chunk boundary.
      if (!isRunning() || isStale()) return;
      const messages =
        start === 0 && batch.messages.length <= this.chunkSize
          ? batch.messages
          : batch.messages.slice(start, start + this.chunkSize);
      const endTimer = batchDuration.startTimer({ consumer: consumerLabel, topic });

      const records: ConsumedRecord<V>[] = [];
      const failures: Failure[] = [];
      for (const message of messages) {
        let result = decode(message, ctx);
        if (result instanceof Promise) result = await result;
        if (result.status === 'ok') {
          records.push({
            offset: message.offset,
            key: message.key,
            value: result.value,
            headers: message.headers ?? {},
            timestamp: message.timestamp,
          });
        } else {
          failures.push({ message, result });
        }
      }

      await new Promise<void>((resolve, reject) => {
        this.queued.push({
          batch: { topic, partition, records },
          messages,
          failures,
          resolveOffset,
          commit: commitOffsetsIfNecessary,
          done: (error) => (error === undefined ? resolve() : reject(error)),
        });
        this.scheduleRound();
      });

      const last = messages[messages.length - 1]!.offset;
      const next = (BigInt(last) + 1n).toString();
      const deadLettered = failures.filter((f) => f.result.status === 'dead-letter').length;
      const dropped = failures.length - deadLettered;
      recordsConsumed.inc(
        { consumer: consumerLabel, topic, outcome: 'ok' },
        messages.length - failures.length,
      );
      if (deadLettered)
        recordsConsumed.inc({ consumer: consumerLabel, topic, outcome: 'dead_letter' }, deadLettered);
      if (dropped) recordsConsumed.inc({ consumer: consumerLabel, topic, outcome: 'drop' }, dropped);
      batchSize.observe({ consumer: consumerLabel, topic }, messages.length);
      consumerLag.set(
        { consumer: consumerLabel, topic, partition: String(partition) },
        Number(BigInt(batch.highWatermark) - BigInt(next)),
      );
      endTimer();
      await heartbeat();
    }
  }

  /**
   * Starts a round once the concurrent `eachBatch` calls of this fetch have queued their chunks
   * (they decode synchronously, so one macrotask later they all have); chunks queued while a round
   * runs wait for the next one.
   */
  private scheduleRound(): void {
    if (this.roundScheduled || this.roundRunning) return;
    this.roundScheduled = true;
    setImmediate(() => {
      this.roundScheduled = false;
      void this.runRounds();
    });
  }

  private async runRounds(): Promise<void> {
    if (this.roundRunning) return;
    this.roundRunning = true;
    try {
      while (this.queued.length > 0) {
        const round = this.queued;
        this.queued = [];
        try {
          await this.runRound(round);
          for (const p of round) p.done();
        } catch (err) {
          for (const p of round) p.done(err);
        }
      }
    } finally {
      this.roundRunning = false;
    }
  }

  private async runRound(round: Pending<V>[]): Promise<void> {
    const withRecords = round.filter((p) => p.batch.records.length > 0);
    if (withRecords.length > 0) {
      const rejections = (await this.options.handle(withRecords.map((p) => p.batch))) ?? [];
      withRecords.forEach((p, i) => {
        const rejected = rejections[i];
        if (!rejected || rejected.length === 0) return;
        const byOffset = new Map(p.messages.map((m) => [m.offset, m]));
        for (const r of rejected) {
          const message = byOffset.get(r.offset);
          if (!message) {
            throw new Error(
              `handler rejected offset ${r.offset} of ${p.batch.topic}/${p.batch.partition}, which is not in the batch`,
            );
          }
          p.failures.push({ message, result: r.result });
        }
      });
    }

    await this.handleFailures(round);

    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const p of round) {
      const last = p.messages[p.messages.length - 1]!.offset;
      p.resolveOffset(last);
      let list = byTopic.get(p.batch.topic);
      if (!list) {
        list = [];
        byTopic.set(p.batch.topic, list);
      }
      list.push({ partition: p.batch.partition, offset: (BigInt(last) + 1n).toString() });
    }
    // Any payload commits for the whole group: one OffsetCommit request for the round.
    await round[0]!.commit({
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
  }

  /** The one place that acts on non-ok results: dead letters are published, drops are logged. */
  private async handleFailures(round: Pending<V>[]): Promise<void> {
    const letters: DeadLetterInput[] = [];
    for (const { batch, failures } of round) {
      const { topic, partition } = batch;
      for (const { message, result } of failures) {
        if (result.status === 'drop') {
          this.log('debug', 'record dropped', { topic, partition, offset: message.offset, ...result });
          continue;
        }
        this.log('warn', 'record dead-lettered', { topic, partition, offset: message.offset, ...result });
        letters.push({
          sourceTopic: topic,
          sourcePartition: partition,
          sourceOffset: message.offset,
          step: result.step,
          reason: result.reason,
          key: message.key,
          value: message.value,
        });
      }
    }
    await this.options.deadLetters.publish(letters, this.options.name);
  }
}
