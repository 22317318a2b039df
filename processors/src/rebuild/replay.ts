import { type Config, createKafka, topicNames } from '@hub/infra';
import type { Admin } from 'kafkajs';
import type { Log } from '../kafka/logger.ts';
import { runStateBuilder } from '../state-builder/runtime.ts';

export interface ReplayProgress {
  /** Records the group has committed past, over all input partitions. */
  done: number;
  /** Records in the input partitions when the replay started. */
  total: number;
}

interface Range {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

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

/**
 * Replays the status, NIN, BVN and delink topics from the beginning into Redis with a fresh consumer
 * group, until the group has committed up to the end offsets read when the replay started. Dead
 * letters were published by the first pass, so the replay only logs them, and it publishes no
 * StateChange records (subscribers were notified the first time).
 */
export async function replayIntoRedis(
  config: Config,
  options: { groupId: string; log: Log; onProgress?: (p: ReplayProgress) => void; pollMs?: number },
): Promise<ReplayProgress> {
  const topics = topicNames(config.TOPIC_PREFIX);
  // The data-subject topic too: erasure orders are one of the builder's inputs.
  const inputs = [
    topics.statusUpdates,
    topics.ninLinkages,
    topics.bvnLinkages,
    topics.delink,
    topics.dataSubject,
  ];
  const admin = createKafka(config).admin();
  await admin.connect();
  try {
    const ranges: Range[] = [];
    for (const topic of inputs) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        ranges.push({ topic, partition: p.partition, start: BigInt(p.low), end: BigInt(p.high) });
      }
    }
    const running = await runStateBuilder(config, {
      groupId: options.groupId,
      publishStateChanges: false,
      republishDeadLetters: false,
      log: options.log,
    });
    try {
      for (;;) {
        const progress = await progressOf(admin, options.groupId, ranges);
        options.onProgress?.(progress);
        if (progress.done >= progress.total) return progress;
        await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
      }
    } finally {
      await running.stop();
    }
  } finally {
    await admin.disconnect();
  }
}
