import { deadLetterTopic } from '@hub/infra';
import type { EventCodec } from '@hub/schemas';
import type { IHeaders, Producer } from 'kafkajs';
import { deadLetters as deadLetterCounter } from '../metrics.ts';
import type { Log } from './logger.ts';

/** Provenance header names on every dead letter (values are UTF-8 strings). */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  step: 'dlq-step',
  sourceTopic: 'dlq-source-topic',
  sourcePartition: 'dlq-source-partition',
  sourceOffset: 'dlq-source-offset',
  failedAt: 'dlq-failed-at',
} as const;

export interface DeadLetterInput {
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  step: string;
  reason: string;
  /** The original key and value bytes, untouched. */
  key: Buffer | null;
  value: Buffer | null;
}

/** Where the batch consumer sends records it cannot process. */
export interface DeadLetterSink {
  publish(letters: readonly DeadLetterInput[], consumer: string): Promise<void>;
}

/**
 * Publishes each dead letter to `<source topic>.dlq` (the infra naming, same as
 * `topicNames(prefix).deadLetters[...]`), keyed by the original key, with the DeadLetter Avro record
 * as value and provenance headers. The event id is derived from topic/partition/offset, so a letter
 * re-published after a crash carries the same id and can be deduplicated downstream.
 */
export class KafkaDeadLetters implements DeadLetterSink {
  private readonly registered = new Set<string>();

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly now: () => number = Date.now,
  ) {}

  async publish(letters: readonly DeadLetterInput[], consumer: string): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = this.now();
    const byTopic = new Map<string, { key: Buffer | null; value: Buffer; headers: IHeaders }[]>();
    for (const letter of letters) {
      const topic = deadLetterTopic(letter.sourceTopic);
      if (!this.registered.has(topic)) {
        await this.codec.register('dead-letter', topic);
        this.registered.add(topic);
      }
      const value = this.codec.encode('dead-letter', {
        eventId: `${letter.sourceTopic}/${letter.sourcePartition}/${letter.sourceOffset}`,
        sourceTopic: letter.sourceTopic,
        sourcePartition: letter.sourcePartition,
        sourceOffset: letter.sourceOffset,
        step: letter.step,
        reason: letter.reason,
        key: letter.key,
        value: letter.value,
        failedAt,
      });
      const headers: IHeaders = {
        [DEAD_LETTER_HEADERS.reason]: letter.reason,
        [DEAD_LETTER_HEADERS.step]: letter.step,
        [DEAD_LETTER_HEADERS.sourceTopic]: letter.sourceTopic,
        [DEAD_LETTER_HEADERS.sourcePartition]: String(letter.sourcePartition),
        [DEAD_LETTER_HEADERS.sourceOffset]: letter.sourceOffset,
        [DEAD_LETTER_HEADERS.failedAt]: new Date(failedAt).toISOString(),
      };
      let list = byTopic.get(topic);
      if (!list) {
        list = [];
        byTopic.set(topic, list);
      }
      list.push({ key: letter.key, value, headers });
    }
    // Resolves once the broker has every letter (the infra producer sends with acks=all), so the
    // source offsets may be committed afterwards.
    await this.producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
    for (const letter of letters) {
      deadLetterCounter.inc({ consumer, topic: letter.sourceTopic, step: letter.step });
    }
  }
}

/** For replays: the first pass already published these letters, so they are counted and logged only. */
export class LoggedDeadLetters implements DeadLetterSink {
  constructor(private readonly log: Log) {}

  async publish(letters: readonly DeadLetterInput[], consumer: string): Promise<void> {
    for (const l of letters) {
      deadLetterCounter.inc({ consumer, topic: l.sourceTopic, step: l.step });
      this.log('info', 'dead letter not republished', {
        topic: l.sourceTopic,
        partition: l.sourcePartition,
        offset: l.sourceOffset,
        step: l.step,
        reason: l.reason,
      });
    }
  }
}
