import type { TopicNames } from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { eventsOf, SAMPLE_EVENT_KINDS, type SampleEvent, type SampleEventKind } from './events.ts';
import type { Population } from './population.ts';

/** The topic of each event family. */
export function sampleTopics(topics: TopicNames): Record<SampleEventKind, string> {
  return {
    'status-update': topics.statusUpdates,
    'nin-linkage': topics.ninLinkages,
    'bvn-linkage': topics.bvnLinkages,
    delink: topics.delink,
  };
}

export interface PublishOptions {
  /** An idempotent, acks=all producer from `createProducer` (@hub/infra), already connected. */
  producer: Producer;
  /** Schema registry client (`createSchemaRegistry` from @hub/infra). */
  registry: ConstructorParameters<typeof EventCodec>[0];
  topics: TopicNames;
  /** Messages per sendBatch call. */
  batchSize?: number;
  /**
   * Publish delink events only after every other event is acknowledged (default true). The final
   * state does not depend on it (delink clearing is judged by occurrence dates), but a processor
   * running during the publish then never shows a linkage's clearing before the linkage itself.
   */
  delinkLast?: boolean;
  onProgress?: (published: number) => void;
}

export interface PublishResult {
  counts: Record<SampleEventKind, number>;
  total: number;
  elapsedMs: number;
}

/** Publishes the sample as Confluent-framed Avro, keyed by canonical MSISDN, in arrival order. */
export async function publishSample(population: Population, opts: PublishOptions): Promise<PublishResult> {
  const started = Date.now();
  const batchSize = opts.batchSize ?? 2000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
  }
  const topicOf = sampleTopics(opts.topics);
  const codec = new EventCodec(opts.registry);
  for (const kind of SAMPLE_EVENT_KINDS) await codec.register(kind, topicOf[kind]);

  const counts = Object.fromEntries(SAMPLE_EVENT_KINDS.map((k) => [k, 0])) as Record<SampleEventKind, number>;
  let total = 0;
  let pending = new Map<string, Message[]>();
  let pendingCount = 0;
  const flush = async (): Promise<void> => {
    if (pendingCount === 0) return;
    const topicMessages: TopicMessages[] = [...pending].map(([topic, messages]) => ({ topic, messages }));
    pending = new Map();
    pendingCount = 0;
    await opts.producer.sendBatch({ topicMessages });
    opts.onProgress?.(total);
  };
  const add = async (event: SampleEvent): Promise<void> => {
    const topic = topicOf[event.kind];
    const value = encodeSampleEvent(codec, event);
    let list = pending.get(topic);
    if (!list) {
      list = [];
      pending.set(topic, list);
    }
    list.push({ key: event.msisdn, value });
    counts[event.kind]++;
    total++;
    if (++pendingCount >= batchSize) await flush();
  };

  const delinkLast = opts.delinkLast ?? true;
  const held: SampleEvent[] = [];
  for (const event of eventsOf(population)) {
    if (delinkLast && event.kind === 'delink') held.push(event);
    else await add(event);
  }
  await flush();
  for (const event of held) await add(event);
  await flush();
  return { counts, total, elapsedMs: Date.now() - started };
}

/**
 * Sends sample events in the given order, keyed by number, in sendBatch calls of `batchSize`
 * (grouped by topic within a batch): for tests that publish a sample in an order of their own.
 * The codec must have the four input kinds registered.
 */
export async function sendSampleEvents(
  producer: Producer,
  codec: EventCodec,
  topics: TopicNames,
  events: readonly SampleEvent[],
  batchSize = 2000,
): Promise<void> {
  const topicOf = sampleTopics(topics);
  for (let i = 0; i < events.length; i += batchSize) {
    const byTopic = new Map<string, Message[]>();
    for (const event of events.slice(i, i + batchSize)) {
      const list = byTopic.get(topicOf[event.kind]) ?? [];
      list.push({ key: event.msisdn, value: encodeSampleEvent(codec, event) });
      byTopic.set(topicOf[event.kind], list);
    }
    await producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}

/** A sample event as Confluent-framed Avro, for producers that publish samples their own way. */
export function encodeSampleEvent(codec: EventCodec, event: SampleEvent): Buffer {
  switch (event.kind) {
    case 'status-update':
      return codec.encode(event.kind, event.value);
    case 'nin-linkage':
      return codec.encode(event.kind, event.value);
    case 'bvn-linkage':
      return codec.encode(event.kind, event.value);
    case 'delink':
      return codec.encode(event.kind, event.value);
  }
}
