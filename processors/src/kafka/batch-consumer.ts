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

/** Decoded, valid records of one partition, in offset order. */
export interface PartitionBatch<V> {
  topic: string;
  partition: number;
  records: ConsumedRecord<V>[];
}

/**
 * Applies a partition batch. Resolve only once its side effects are durable: the consumer commits
 * right after. It may return rejections for records it refuses (dead-lettered or dropped by the
 * consumer, like decode failures). Throwing fails the batch: nothing of it is committed and kafkajs
 * restarts the consumer, which re-delivers from the last commit.
 */
export type BatchHandler<V> = (batch: PartitionBatch<V>) => Promise<undefined | readonly RecordRejection[]>;

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
   * Records handed to the handler at once; a fetched batch is split into chunks of this size, each
   * committed before the next starts, with a heartbeat in between (default 1000).
   */
  maxChunkSize?: number;
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

/**
 * kafkajs consumer runner with explicit commits: `eachBatch`, no auto-resolve, no auto-commit.
 * For each chunk of a partition batch it decodes every record, hands the valid ones to the handler,
 * publishes the dead letters, and only then resolves and commits highest offset + 1 for that
 * partition. Bad records never stop a partition. Batches are processed one at a time and kafkajs
 * fetches at most `maxBytesPerPartition` per partition, so nothing is buffered without bound: a
 * slow handler slows fetching down.
 */
export class BatchConsumer<V> {
  private consumer: Consumer | null = null;
  private readonly partitionCounts = new Map<string, number>();
  private assignmentGate: Promise<void> = Promise.resolve();
  private readonly log: Log;
  private readonly chunkSize: number;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: BatchConsumerOptions<V>) {
    this.log = options.log ?? jsonLog(options.name);
    this.chunkSize = options.maxChunkSize ?? 1000;
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
      maxBytesPerPartition: 1_048_576,
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
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /**
   * Lets the in-flight chunk finish (handler, dead letters, commit), then leaves the group and
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
      const messages = batch.messages.slice(start, start + this.chunkSize);
      const endTimer = batchDuration.startTimer({ consumer: consumerLabel, topic });

      const records: ConsumedRecord<V>[] = [];
      const failures: { message: KafkaMessage; result: StepFailure }[] = [];
      for (const message of messages) {
        const result = await decode(message, ctx);
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

      if (records.length > 0) {
        const rejections = (await this.options.handle({ topic, partition, records })) ?? [];
        if (rejections.length > 0) {
          const byOffset = new Map(messages.map((m) => [m.offset, m]));
          for (const r of rejections) {
            const message = byOffset.get(r.offset);
            if (!message) throw new Error(`handler rejected offset ${r.offset}, which is not in the batch`);
            failures.push({ message, result: r.result });
          }
        }
      }

      await this.handleFailures(failures, topic, partition);

      const last = messages[messages.length - 1]!.offset;
      const next = (BigInt(last) + 1n).toString();
      resolveOffset(last);
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });

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

  /** The one place that acts on non-ok results: dead letters are published, drops are logged. */
  private async handleFailures(
    failures: { message: KafkaMessage; result: StepFailure }[],
    topic: string,
    partition: number,
  ): Promise<void> {
    const letters: DeadLetterInput[] = [];
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
    await this.options.deadLetters.publish(letters, this.options.name);
  }
}
