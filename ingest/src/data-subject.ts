import { randomUUID } from 'node:crypto';
import type { TopicNames } from '@hub/infra';
import type { DataSubjectCodec, DataSubjectEvent, ErasureCutoff } from '@hub/schemas';
import type { Producer } from 'kafkajs';
import { KafkaUnavailableError } from './publisher.ts';

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
  ): Promise<DataSubjectEvent> {
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
      await this.o.producer.send({
        topic: this.o.topics.dataSubject,
        messages: [{ key: event.subject, value: this.o.codec.encode(event) }],
      });
    } catch (err) {
      throw new KafkaUnavailableError(`data-subject event not stored: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return event;
  }

  /**
   * Orders a subscriber's erasure. The state builder decides its position (everything of the
   * number it has applied) and publishes SUBSCRIBER_ERASED, which every projection applies.
   */
  eraseSubscriber(msisdn: string, requestId: string, actor: string): Promise<DataSubjectEvent> {
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
