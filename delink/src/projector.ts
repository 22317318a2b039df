import type { Logger, TopicNames } from '@hub/infra';
import type { EventCodec } from '@hub/schemas';
import { projectWorkflow, type WorkflowKeys, type WorkflowRecord } from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { PartitionConsumer } from './consume.ts';

export interface ProjectorOptions {
  kafka: Kafka;
  codec: EventCodec;
  redis: Redis;
  keys: WorkflowKeys;
  topics: TopicNames;
  groupId: string;
  log: Logger;
  /** Called with each applied chunk's outcomes (metrics, tests). */
  onApplied?: (outcomes: { eventId: string; outcome: string }[]) => void;
}

/**
 * The workflow projection: the delink and recycled-SIMs topics applied to Redis in topic order
 * (state/src/workflow/store.ts). The only writer of the workflow read model; the API and the
 * dispatcher publish and then wait for its verdict on their event.
 */
export function createWorkflowProjector(
  options: ProjectorOptions,
): PartitionConsumer<'delink' | 'recycled-sim'> {
  const { redis, keys } = options;
  return new PartitionConsumer<'delink' | 'recycled-sim'>({
    kafka: options.kafka,
    codec: options.codec,
    groupId: options.groupId,
    topics: new Map([
      [options.topics.delink, 'delink'],
      [options.topics.recycledSims, 'recycled-sim'],
    ]),
    log: options.log,
    async handle(records, topic, partition) {
      const kind = topic === options.topics.delink ? 'delink' : 'recycled-sim';
      const input = records.map((r) => ({ kind, offset: r.offset, event: r.value }) as WorkflowRecord);
      const outcomes = await projectWorkflow(redis, keys, topic, partition, input);
      for (const o of outcomes)
        if (o.outcome !== 'applied')
          options.log.info({ eventId: o.eventId, outcome: o.outcome }, 'workflow event not applied');
      options.onApplied?.(outcomes);
    },
  });
}

/** Waits until the projector has applied `topic`/`partition` up to `offset`; false after `timeoutMs`. */
export async function projectedUpTo(
  redis: Redis,
  keys: WorkflowKeys,
  topic: string,
  partition: number,
  offset: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 5; ; pause = Math.min(100, pause * 2)) {
    const at = await redis.hget(keys.cursor, `${topic}:${partition}`);
    if (at !== null && BigInt(at) >= BigInt(offset)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pause));
  }
}
