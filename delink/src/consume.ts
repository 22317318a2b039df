import type { Logger } from '@hub/infra';
import type { EventCodec, EventKind, EventTypes } from '@hub/schemas';
import type { Admin, Consumer, ConsumerConfig, Kafka } from 'kafkajs';

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
  /**
   * false: a group that has never committed starts at the end of each partition, as it is when the
   * group first starts; that position is committed then, so a later rebalance or restart resumes
   * there and never jumps past records that arrived in between. Default true (from the start).
   */
  fromBeginning?: boolean;
  consumerConfig?: Omit<ConsumerConfig, 'groupId'>;
}

const PIN_ATTEMPTS = 8;

/** Commits the end of each of the topic's partitions that the group has no offset for. */
async function pinTopic(admin: Admin, groupId: string, topic: string): Promise<void> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const missing = (committed?.partitions ?? []).filter((p) => p.offset === '-1');
  if (missing.length === 0) return;
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
  await admin.setOffsets({
    groupId,
    topic,
    partitions: missing.map((p) => ({ partition: p.partition, offset: ends.get(p.partition) ?? '0' })),
  });
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
    if (options.fromBeginning === false) await this.pinStart();
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

  /**
   * Commits the current end of every partition the group has no offset for. kafkajs would resolve
   * "latest" at each join instead, so records that land while a partition is unowned (a rebalance,
   * a restart after a failed batch) would be skipped. Fails soft: a group that already has members
   * refuses the commit, and those members started from their own pinned position.
   */
  private async pinStart(): Promise<void> {
    const { kafka, groupId, log } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      // A topic created a moment ago answers "not the leader" until its partitions have leaders.
      for (let attempt = 1; ; attempt++) {
        try {
          for (const topic of this.options.topics.keys()) await pinTopic(admin, groupId, topic);
          return;
        } catch (err) {
          // A group with running members refuses the commit (non-retriable): they pinned it.
          if (attempt >= PIN_ATTEMPTS || (err as Error).name === 'KafkaJSNonRetriableError') throw err;
          await new Promise((r) => setTimeout(r, 100 * 2 ** Math.min(attempt, 5)));
        }
      }
    } catch (err) {
      log.warn(
        { groupId, err: (err as Error).message },
        'start offsets not pinned; kafkajs resolves them at join',
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** Finishes the batch in flight (handler and commit), then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect();
  }
}
