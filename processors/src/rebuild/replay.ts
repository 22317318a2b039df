import {
  type Config,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  ensureTopics,
  startWorkerThread,
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
import { coPartitionedAssigner } from '../kafka/co-partitioned.ts';
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
  /** Called once every member has started (joined its group, its erasures read). */
  onReady?: () => void;
  pollMs?: number;
  /** Records of one partition folded at once (default 100,000: a whole fetched batch). */
  maxChunkSize?: number;
  /** Numbers whose records stay in memory between chunks, per member (default 1,000,000). */
  memoryLimit?: number;
  /**
   * Members of the replay's group, each on a worker thread of its own, each holding partition p
   * of every input topic for p mod threads (default 1: one member, on this thread).
   */
  threads?: number;
}

export interface ReplayMemberOptions {
  groupId: string;
  log: Log;
  maxChunkSize?: number;
  memoryLimit?: number;
  /** Members the group waits for before any is given a partition (the replay's `threads`). */
  members: number;
}

export interface ReplayMember {
  /** Finishes the round in flight (writes and commit), leaves the group, closes its clients. */
  stop(): Promise<void>;
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
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`threads must be a positive integer, got ${threads}`);
  const admin = createKafka(config).admin();
  await admin.connect();
  const members: ReplayMember[] = [];
  try {
    await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
    const ranges: Range[] = [];
    for (const topic of inputTopics(topics)) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        ranges.push({ topic, partition: p.partition, start: BigInt(p.low), end: BigInt(p.high) });
      }
    }
    const memberOptions: ReplayMemberOptions = {
      groupId: options.groupId,
      log: options.log,
      members: threads,
      ...(options.maxChunkSize === undefined ? {} : { maxChunkSize: options.maxChunkSize }),
      ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
    };
    let failed: Promise<never> = new Promise(() => {});
    if (threads === 1) members.push(await startReplayMember(config, memberOptions));
    else {
      const started = Array.from({ length: threads }, () => startReplayThread(config, memberOptions));
      members.push(...started);
      // A member that dies leaves its partitions unassigned (the group waits for all): fail the replay.
      failed = Promise.race(started.map((t) => t.failed));
      failed.catch(() => undefined);
      await Promise.all(started.map((t) => t.ready));
    }
    options.onReady?.();
    for (;;) {
      const progress = await progressOf(admin, options.groupId, ranges);
      options.onProgress?.(progress);
      if (progress.done >= progress.total) return progress;
      await Promise.race([new Promise((r) => setTimeout(r, options.pollMs ?? 500)), failed]);
    }
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await admin.disconnect();
  }
}

function inputTopics(topics: ReturnType<typeof topicNames>): string[] {
  // The data-subject topic too: erasure orders are one of the builder's inputs.
  return [topics.statusUpdates, topics.ninLinkages, topics.bvnLinkages, topics.delink, topics.dataSubject];
}

interface ReplayThread extends ReplayMember {
  /** Resolves once the member is consuming; rejects as `failed` does. */
  ready: Promise<void>;
  /** Rejects if the thread fails or exits before it is stopped. */
  failed: Promise<never>;
}

/** A member on a worker thread (replay-thread.ts). */
function startReplayThread(config: Config, options: ReplayMemberOptions): ReplayThread {
  const { log, ...data } = options;
  const worker = startWorkerThread(new URL('./replay-thread.ts', import.meta.url), { config, options: data });
  let stopping = false;
  let isReady = false;
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const failed = new Promise<never>((_, reject) => {
    worker.on('error', (err) => reject(err));
    worker.on('message', (m: ReplayThreadMessage) => {
      if (m.type === 'failed') reject(new Error(`replay member failed: ${m.error}`));
    });
    void gone.then(() => {
      if (!stopping) reject(new Error('replay member exited before the replay ended'));
    });
  });
  failed.catch(() => undefined);
  const ready = Promise.race([
    new Promise<void>((resolve) =>
      worker.on('message', (m: ReplayThreadMessage) => {
        if (m.type !== 'ready') return;
        isReady = true;
        resolve();
      }),
    ),
    failed,
  ]);
  ready.catch(() => undefined);
  let stopped: Promise<void> | null = null;
  return {
    ready,
    failed,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (exited) return;
        // Not consuming yet (or never will be): nothing of it needs a graceful end.
        if (!isReady) await worker.terminate();
        else {
          // Its clients are closed once it says so.
          worker.on('message', (m: ReplayThreadMessage) => m.type === 'stopped' && void worker.terminate());
          worker.postMessage({ type: 'stop' });
        }
        await gone;
      })();
      return stopped;
    },
  };
}

export type ReplayThreadMessage = { type: 'ready' } | { type: 'stopped' } | { type: 'failed'; error: string };

/**
 * One member of the replay's group. It folds each round of its partitions in memory (fold.ts) and
 * writes every number it changed once per round; the co-partitioned assigner gives it partition p
 * of every input topic, so it holds every event of its numbers, and assigns nothing until all
 * `members` have joined, so no partition moves between members under a fold. Should one move all
 * the same (a member dropped by the group), the member forgets what it held and reads every number
 * back from Redis from then on.
 */
export async function startReplayMember(config: Config, options: ReplayMemberOptions): Promise<ReplayMember> {
  const topics = topicNames(config.TOPIC_PREFIX);
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(config);
  let producer: Producer | null = null;
  let stopFollower: (() => Promise<void>) | null = null;
  let consumer: BatchConsumer<BuilderInput> | null = null;
  const close = async () => {
    await Promise.all([consumer?.stop(), stopFollower?.()]);
    await (producer as Producer | null)?.disconnect();
    await redis.quit();
    await admin.disconnect();
  };
  try {
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
    let held: string | null = null;
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
      onAssigned: async (assignment) => {
        const now = JSON.stringify(
          assignment.map((a) => [a.topic, [...a.partitions].sort((x, y) => x - y)]).sort(),
        );
        if (assignment.every((a) => a.partitions.length === 0)) return;
        if (held !== null && held !== now) state.distrust();
        held = now;
      },
      // Large fetches make large rounds: fewer writes of a number, fewer commits.
      consumerConfig: {
        maxWaitTimeInMs: FETCH_WAIT_MS,
        maxBytesPerPartition: 8 * 1024 * 1024,
        maxBytes: 64 * 1024 * 1024,
        partitionAssigners: [coPartitionedAssigner(options.members)],
        // A member learns of the next member's join at its next heartbeat: the group forms sooner.
        heartbeatInterval: 500,
      },
    });
    await Promise.all([caughtUp, consumer.start()]);
    return { stop: close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
