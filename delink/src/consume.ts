import type { Logger } from '@hub/infra';
import type { EventCodec, EventKind, EventTypes } from '@hub/schemas';
import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';

export interface Decoded<K extends EventKind> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: EventTypes[K];
}

export interface PartitionConsumerOptions<K extends EventKind> {
  kafka: Kafka;
  codec: EventCodec;
  groupId: string;
  /** Topic → the event kind its records decode as. */
  topics: ReadonlyMap<string, K>;
  /**
   * One partition's chunk, in offset order. Resolve only when its side effects are durable: the
   * partition is committed right after (highest offset + 1). Throwing leaves it uncommitted and
   * kafkajs redelivers it from the last commit.
   */
  handle(records: Decoded<K>[], topic: string, partition: number): Promise<void>;
  log: Logger;
  fromBeginning?: boolean;
  consumerConfig?: Omit<ConsumerConfig, 'groupId'>;
}

/**
 * A consumer group member that hands each partition's chunk to `handle` and commits after it,
 * never before. Records that do not decode are skipped with a log line: their dead letter is
 * written by the consumer that owns the topic's decode failures (the state builder for delink, the
 * history sink for recycled-sims), so it is not written twice.
 */
export class PartitionConsumer<K extends EventKind> {
  private readonly consumer: Consumer;
  private running = false;

  constructor(private readonly options: PartitionConsumerOptions<K>) {
    this.consumer = options.kafka.consumer({
      // A long poll: the broker answers as soon as a record arrives (minBytes 1), so this bounds
      // only how often an idle worker asks. At 50 ms the idle worker spent ~5% of a core polling.
      maxWaitTimeInMs: 500,
      ...options.consumerConfig,
      groupId: options.groupId,
      allowAutoTopicCreation: false,
    });
  }

  async start(): Promise<void> {
    const { options } = this;
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...options.topics.keys()],
      fromBeginning: options.fromBeginning ?? true,
    });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        const kind = options.topics.get(batch.topic);
        if (!kind || batch.messages.length === 0) return;
        const decoded: Decoded<K>[] = [];
        for (const m of batch.messages) {
          try {
            decoded.push({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key?.toString('utf8') ?? null,
              value: (options.codec.decodeCached(kind, m.value) ??
                (await options.codec.decode(kind, m.value))) as EventTypes[K],
            });
          } catch (err) {
            options.log.warn(
              {
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                err: (err as Error).message,
              },
              'record does not decode; skipped (its dead letter is the topic owner’s)',
            );
          }
        }
        if (!isRunning() || isStale()) return;
        await options.handle(decoded, batch.topic, batch.partition);
        const last = batch.messages[batch.messages.length - 1]!.offset;
        // Resolved, or kafkajs fetches the partition from the last resolved offset again.
        resolveOffset(last);
        await this.consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
        await heartbeat();
      },
    });
  }

  /** Finishes the batch in flight (handler and commit), then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
  }
}
