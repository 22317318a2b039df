import type { EventCodec, EventKind, EventTypes } from '@hub/schemas';
import type { Producer } from 'kafkajs';

/** Kafka did not take the records (broker down, timeout): the caller answers 503 and keeps nothing. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
}

export interface KeyedEvent<K extends EventKind> {
  key: string;
  value: EventTypes[K];
}

export interface PublisherOptions {
  /** Records per produce request; bulk requests are split into chunks of this size. */
  chunkSize?: number;
  /** How long one chunk may take before the publish is reported as failed. */
  timeoutMs?: number;
}

/**
 * Publishes events as Confluent-framed Avro through the hub's idempotent, acks=all producer.
 * `publish` resolves only when the broker has every record: that is when the API may acknowledge.
 */
export class Publisher {
  private readonly chunkSize: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    options: PublisherOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async publish<K extends EventKind>(kind: K, topic: string, events: KeyedEvent<K>[]): Promise<void> {
    for (let i = 0; i < events.length; i += this.chunkSize) {
      const chunk = events.slice(i, i + this.chunkSize);
      const messages = chunk.map((e) => ({ key: e.key, value: this.codec.encode(kind, e.value) }));
      await this.withTimeout(this.producer.send({ topic, messages }));
    }
  }

  private async withTimeout(p: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`Kafka did not acknowledge within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([p, timeout]);
    } catch (err) {
      if (err instanceof KafkaUnavailableError) throw err;
      throw new KafkaUnavailableError(`Kafka rejected the write: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
