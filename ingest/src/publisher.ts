import type { EventCodec, EventKind, EventTypes } from '@hub/schemas';
import type { Producer } from 'kafkajs';
import { DependencyUnavailableError } from './unavailable.ts';

/** Kafka did not take the records (broker down, timeout): the caller answers 503. */
export class KafkaUnavailableError extends DependencyUnavailableError {
  override readonly name: string = 'KafkaUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('the event store', message, options);
  }
}

/**
 * Kafka failed part-way through a publish. The events were sent in order, one chunk at a time:
 * the first `published` are on Kafka (acknowledged, acks=all); the next `unconfirmed` were in
 * flight when the write failed or timed out, so each may or may not be on Kafka; the rest were
 * never sent. Event ids are derived from content, so resending an unconfirmed event stores the
 * same id, and history counts it once.
 */
export class PublishIncompleteError extends KafkaUnavailableError {
  override readonly name = 'PublishIncompleteError';
  constructor(
    readonly total: number,
    readonly published: number,
    readonly unconfirmed: number,
    cause: Error,
  ) {
    super(
      `Kafka took ${published} of ${total} records; ${unconfirmed} unconfirmed, ${total - published - unconfirmed} not sent: ${cause.message}`,
      { cause },
    );
  }

  get notSent(): number {
    return this.total - this.published - this.unconfirmed;
  }
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
 * When it cannot, it throws PublishIncompleteError, which says how many leading events are on
 * Kafka, so an answer never says "nothing accepted" when some records were.
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
      let sent: Promise<unknown>;
      try {
        sent = this.producer.send({ topic, messages });
      } catch (err) {
        throw new PublishIncompleteError(events.length, i, 0, err as Error);
      }
      try {
        await this.withTimeout(sent);
      } catch (err) {
        const failure = err as Error;
        // A producer that is not connected refuses before anything reaches a broker.
        const unconfirmed = notSent(failure) ? 0 : chunk.length;
        throw new PublishIncompleteError(events.length, i, unconfirmed, failure);
      }
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
    } finally {
      clearTimeout(timer);
    }
  }
}

/** kafkajs refuses a send on a disconnected producer before writing anything. */
function notSent(err: Error): boolean {
  return err.name === 'KafkaJSError' && /producer is disconnected/i.test(err.message);
}
