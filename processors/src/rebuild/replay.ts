import {
  type Config,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  ensureTopics,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import { DataSubjectCodec, EventCodec } from '@hub/schemas';
import { stateSlot } from '@hub/state/keys';
import { readStored } from '@hub/state/read';
import type { Redis } from 'ioredis';
import type { Admin, Producer } from 'kafkajs';
import { ErasureFollower } from '../data-subject/follower.ts';
import { BatchConsumer, type PartitionBatch } from '../kafka/batch-consumer.ts';
import { LoggedDeadLetters, STATE_BUILDER } from '../kafka/dead-letters.ts';
import type { Log } from '../kafka/logger.ts';
import type { RecordRejection } from '../kafka/results.ts';
import { eventsApplied, eventsSkipped } from '../metrics.ts';
import { type BuilderInput, builderDecoders } from '../state-builder/builder.ts';
import { publishDecisions } from '../state-builder/erasure-orders.ts';
import { FoldedState, type FoldStart, foldChunk } from './fold.ts';

export interface ReplayProgress {
  /** Records the group has committed past, over all input partitions. */
  done: number;
  /** Records in the input partitions when the replay started. */
  total: number;
}

export interface ReplayOptions {
  groupId: string;
  log: Log;
  onProgress?: (p: ReplayProgress) => void;
  pollMs?: number;
  /** Records of one partition folded at once (default 100,000: a whole fetched batch). */
  maxChunkSize?: number;
  /** Numbers whose records stay in memory between chunks (default 1,000,000). */
  memoryLimit?: number;
}

interface Range {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** Long-poll wait of the replay's fetches: stopping waits for the fetch in flight. */
const FETCH_WAIT_MS = 100;

async function progressOf(admin: Admin, groupId: string, ranges: Range[]): Promise<ReplayProgress> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...new Set(ranges.map((r) => r.topic))] });
  const at = new Map<string, bigint>();
  for (const t of committed)
    for (const p of t.partitions) at.set(`${t.topic}/${p.partition}`, BigInt(p.offset));
  let done = 0n;
  let total = 0n;
  for (const r of ranges) {
    const offset = at.get(`${r.topic}/${r.partition}`) ?? -1n;
    // -1: nothing committed yet.
    const position = offset < r.start ? r.start : offset > r.end ? r.end : offset;
    done += position - r.start;
    total += r.end - r.start;
  }
  return { done: Number(done), total: Number(total) };
}

/** One HSET per bucket touched (buckets are single keys, so this is valid on Redis Cluster too). */
async function writeNumbers(redis: Redis, prefix: string, numbers: ReadonlyMap<string, { bytes: Buffer }>) {
  if (numbers.size === 0) return;
  const buckets = new Map<string, (string | Buffer)[]>();
  for (const [msisdn, { bytes }] of numbers) {
    const slot = stateSlot(prefix, msisdn);
    const args = buckets.get(slot.key);
    if (args) args.push(slot.field, bytes);
    else buckets.set(slot.key, [slot.field, bytes]);
  }
  const pipeline = redis.pipeline();
  for (const [key, args] of buckets) pipeline.hset(key, ...args);
  const replies = (await pipeline.exec()) ?? [];
  if (replies.length !== buckets.size)
    throw new Error(`state write got ${replies.length} of ${buckets.size} replies`);
  const keys = [...buckets.keys()];
  replies.forEach(([err], i) => {
    if (err) throw new Error(`state write to ${keys[i]} failed: ${err.message}`);
  });
}

/**
 * Replays the status, NIN, BVN, delink and data-subject topics from the beginning into a dropped
 * Redis projection (cli.ts drops it first) with a fresh consumer group, until the group has
 * committed up to the end offsets read when the replay started.
 *
 * It applies the live state builder's rules (fold.ts: the state package's apply, erasure and encode
 * functions, dead letters and refusals as live) but not its read-modify-CAS: each round of fetched
 * chunks is folded in memory, every number's final record is written once per round with one
 * pipelined HSET per bucket, and the round's offsets are committed only after Redis has
 * acknowledged those writes. Because it starts from nothing and holds the records it wrote, it
 * reads nothing from Redis (except numbers that left memory, see FoldedState). The live builder
 * must be stopped: the writes are not compare-and-set.
 *
 * Dead letters were published by the first pass, so the replay only logs them, and it publishes no
 * StateChange records (subscribers were notified the first time). Erasures already decided are read
 * from the data-subject topic before the first event is applied; an order the first pass had not
 * decided is decided and published as the live builder would.
 */
export async function replayIntoRedis(config: Config, options: ReplayOptions): Promise<ReplayProgress> {
  const topics = topicNames(config.TOPIC_PREFIX);
  // The data-subject topic too: erasure orders are one of the builder's inputs.
  const inputs = [
    topics.statusUpdates,
    topics.ninLinkages,
    topics.bvnLinkages,
    topics.delink,
    topics.dataSubject,
  ];
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(config);
  let producer: Producer | null = null;
  let stopFollower: (() => Promise<void>) | null = null;
  let consumer: BatchConsumer<BuilderInput> | null = null;
  try {
    await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
    const ranges: Range[] = [];
    for (const topic of inputs) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        ranges.push({ topic, partition: p.partition, start: BigInt(p.low), end: BigInt(p.high) });
      }
    }
    const registry = createSchemaRegistry(config);
    const codec = new EventCodec(registry);
    const dataSubjectCodec = new DataSubjectCodec(registry);
    await dataSubjectCodec.register(topics.dataSubject);
    // Every erasure already decided is known before the first event is applied (the handler waits
    // for it); the replay decides, and adds, any new one itself, so the follower stops once caught up.
    const erasures = new ErasureFollower({
      kafka,
      maxWaitTimeInMs: FETCH_WAIT_MS,
      codec: dataSubjectCodec,
      topic: topics.dataSubject,
      name: 'state-rebuild',
      log: options.log,
    });
    let stopped: Promise<void> | null = null;
    stopFollower = () => {
      stopped ??= erasures.stop();
      return stopped;
    };
    const caughtUp = erasures.start();
    caughtUp.then(stopFollower).catch(() => undefined);

    const prefix = config.REDIS_KEY_PREFIX;
    const state = new FoldedState(options.memoryLimit);
    const handle = async (batches: readonly PartitionBatch<BuilderInput>[]): Promise<RecordRejection[][]> => {
      await caughtUp;
      const toRead = state.toRead(batches);
      const read = new Map<string, FoldStart>();
      for (const s of await readStored(redis, prefix, toRead)) read.set(s.msisdn, s);
      const folded = foldChunk(batches, (msisdn) => state.start(msisdn, read), {
        topics,
        erasures: erasures.erasures,
      });
      if (folded.decisions.length > 0) {
        if (!producer) {
          producer = createProducer(kafka);
          await producer.connect();
        }
        await publishDecisions(
          { set: erasures.erasures, codec: dataSubjectCodec, producer, admin },
          topics,
          folded.decisions,
        );
      }
      await writeNumbers(redis, prefix, folded.changed);
      state.commit(folded.changed);
      for (const [topic, n] of folded.applied) eventsApplied.inc({ topic }, n);
      for (const [topic, n] of folded.skipped) eventsSkipped.inc({ topic }, n);
      return folded.rejections;
    };

    consumer = new BatchConsumer<BuilderInput>({
      kafka,
      groupId: options.groupId,
      name: STATE_BUILDER,
      topics: builderDecoders(codec, topics, dataSubjectCodec),
      handle,
      deadLetters: new LoggedDeadLetters(options.log),
      maxChunkSize: options.maxChunkSize ?? 100_000,
      log: options.log,
      // Large fetches make large rounds: fewer writes of a number, fewer commits.
      consumerConfig: {
        maxWaitTimeInMs: FETCH_WAIT_MS,
        maxBytesPerPartition: 8 * 1024 * 1024,
        maxBytes: 64 * 1024 * 1024,
      },
    });
    await Promise.all([caughtUp, consumer.start()]);
    for (;;) {
      const progress = await progressOf(admin, options.groupId, ranges);
      options.onProgress?.(progress);
      if (progress.done >= progress.total) return progress;
      await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
    }
  } finally {
    await Promise.all([consumer?.stop(), stopFollower?.()]);
    await (producer as Producer | null)?.disconnect();
    await redis.quit();
    await admin.disconnect();
  }
}
