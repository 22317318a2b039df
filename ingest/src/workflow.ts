import type { TopicNames } from '@hub/infra';
import type { DelinkEvent, EventCodec, RecycledSimEvent } from '@hub/schemas';
import { type WorkflowKeys, waitForProjection } from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { Publisher } from './publisher.ts';

/** Registers the schemas of the workflow's two topics (idempotent). */
export async function registerWorkflowSchemas(codec: EventCodec, topics: TopicNames): Promise<void> {
  await codec.register('delink', topics.delink);
  await codec.register('recycled-sim', topics.recycledSims);
}

/**
 * Writes the delink workflow's commands and outcomes: events on the delink and recycled-SIMs
 * topics, keyed by MSISDN, acknowledged by Kafka (acks=all) before `publish` resolves. Nothing is
 * written to a store here: the workflow projector (delink/) applies the topics to Redis in topic
 * order, and a writer that must read its own write waits for the projector's verdict on its
 * event (`settled`), so what it then reads is exactly what a replay of the topics would build.
 */
export class WorkflowWriter {
  private readonly publisher: Publisher;

  constructor(
    producer: Producer,
    codec: EventCodec,
    private readonly topics: TopicNames,
    private readonly redis: Redis,
    private readonly keys: WorkflowKeys,
  ) {
    this.publisher = new Publisher(producer, codec);
  }

  delink(events: readonly DelinkEvent[]): Promise<void> {
    return this.publisher.publish(
      'delink',
      this.topics.delink,
      events.map((value) => ({ key: value.msisdn, value })),
    );
  }

  sims(events: readonly RecycledSimEvent[]): Promise<void> {
    return this.publisher.publish(
      'recycled-sim',
      this.topics.recycledSims,
      events.map((value) => ({ key: value.msisdn, value })),
    );
  }

  /** The projector's verdict on an event: 'applied', the reason it was not, or null after `timeoutMs`. */
  settled(eventId: string, timeoutMs = 5000): Promise<string | null> {
    return waitForProjection(this.redis, this.keys, eventId, timeoutMs);
  }
}
