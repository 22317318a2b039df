import { randomUUID } from 'node:crypto';
import type { TopicNames } from '@hub/infra';
import type { DataSubjectCodec, DataSubjectEvent, ErasureCutoff } from '@hub/schemas';
import type { Producer } from 'kafkajs';
import { KafkaUnavailableError } from './publisher.ts';

/** A published event and where it landed (for read-your-writes on a projection of the topic). */
export interface PublishedDataSubjectEvent {
  event: DataSubjectEvent;
  partition: number;
  offset: number;
}

export interface DataSubjectPublisherOptions {
  producer: Producer;
  codec: DataSubjectCodec;
  topics: TopicNames;
  now?: () => number;
}

/** Builds and publishes data-subject events (acks=all: resolves once Kafka has the record). */
export class DataSubjectPublisher {
  constructor(private readonly o: DataSubjectPublisherOptions) {}

  async publish(
    fields: Omit<DataSubjectEvent, 'eventId' | 'source' | 'occurredAt' | 'receivedAt' | 'cutoffs'> & {
      cutoffs?: ErasureCutoff[];
    },
  ): Promise<PublishedDataSubjectEvent> {
    const now = this.o.now?.() ?? Date.now();
    const event: DataSubjectEvent = {
      eventId: randomUUID(),
      source: 'API',
      cutoffs: [],
      ...fields,
      occurredAt: now,
      receivedAt: now,
    };
    try {
      const [meta] = await this.o.producer.send({
        topic: this.o.topics.dataSubject,
        messages: [{ key: event.subject, value: this.o.codec.encode(event) }],
      });
      return { event, partition: meta?.partition ?? 0, offset: Number(meta?.baseOffset ?? -1) };
    } catch (err) {
      throw new KafkaUnavailableError(`data-subject event not stored: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * Orders a subscriber's erasure. The state builder decides its position (everything of the
   * number it has applied) and publishes SUBSCRIBER_ERASED, which every projection applies.
   */
  eraseSubscriber(msisdn: string, requestId: string, actor: string): Promise<PublishedDataSubjectEvent> {
    return this.publish({
      type: 'SUBSCRIBER_ERASURE_ORDERED',
      subjectType: 'SUBSCRIBER',
      subject: msisdn,
      requestId,
      actor,
      purpose: null,
      details: JSON.stringify({ erases: ['nin linkages', 'bvn linkages', 'state changes', 'verifications'] }),
    });
  }
}
