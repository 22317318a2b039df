import { deadLetterTopic, topicNames } from '@hub/infra';
import type { EventCodec } from '@hub/schemas';
import type { IHeaders, Producer } from 'kafkajs';
import { Counter } from 'prom-client';
import { deadLetters as deadLetterCounter, registry } from '../metrics.ts';
import type { Log } from './logger.ts';

/** Dead letters a consumer did not publish because another consumer owns them (decodeDeadLetterOwner). */
const deadLettersLeft = new Counter({
  name: 'hub_dead_letters_left_total',
  help: 'Decode failures not dead-lettered by this consumer because another consumer of the topic owns them',
  labelNames: ['consumer', 'topic', 'step'] as const,
  registers: [registry],
});

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

/** Consumer names (BatchConsumer `name`) that share source topics. */
export const STATE_BUILDER = 'state-builder';
export const HISTORY_SINK = 'history-sink';

/**
 * Base names (without the deployment's topic prefix) of the topics the state builder reads: the
 * four state inputs and the data-subject topic (erasure orders).
 */
const STATE_BUILDER_INPUTS = (() => {
  const t = topicNames('');
  return [t.statusUpdates, t.ninLinkages, t.bvnLinkages, t.delink, t.dataSubject];
})();

/**
 * The one consumer that dead-letters a record of `sourceTopic` that does not decode. The state
 * builder and the history sink both read (and decode) the four input topics; each bad record must
 * reach `<topic>.dlq` once, not once per consumer group. Owners:
 *
 * - status-updates, nin-linkages, bvn-linkages, delink, data-subject: the state builder, which
 *   also dead-letters those records' key, partition, validation and apply failures, so all of an
 *   input record's trouble is in one place;
 * - every other topic (verifications, state-changes, audit, recycled-sims, ...): the history sink,
 *   their only reader.
 *
 * Only the history sink defers: the state builder publishes the decode failures of whatever it
 * reads, so no topic it reads can lose them. A failure at any other step is the failing consumer's
 * own (e.g. the history sink's `history-row`) and is always published.
 */
export function decodeDeadLetterOwner(sourceTopic: string): string {
  return STATE_BUILDER_INPUTS.some((base) => sourceTopic === base || sourceTopic.endsWith(`.${base}`))
    ? STATE_BUILDER
    : HISTORY_SINK;
}

/** Whether `consumer` publishes `letter`: not a decode failure of a topic the state builder owns. */
export function publishesDeadLetter(
  consumer: string,
  letter: Pick<DeadLetterInput, 'step' | 'sourceTopic'>,
): boolean {
  if (letter.step !== 'decode' || consumer !== HISTORY_SINK) return true;
  return decodeDeadLetterOwner(letter.sourceTopic) === HISTORY_SINK;
}

/** Where the batch consumer sends records it cannot process. */
export interface DeadLetterSink {
  publish(letters: readonly DeadLetterInput[], consumer: string): Promise<void>;
}

/**
 * Publishes each dead letter to `<source topic>.dlq` (the infra naming, same as
 * `topicNames(prefix).deadLetters[...]`), keyed by the original key, with the DeadLetter Avro record
 * as value and provenance headers. The event id is derived from topic/partition/offset, so a letter
 * re-published after a crash carries the same id and can be deduplicated downstream. A decode
 * failure of a topic another consumer owns (decodeDeadLetterOwner) is left to that consumer: the
 * batch consumer has logged it, and it is counted under `hub_dead_letters_left_total`.
 */
export class KafkaDeadLetters implements DeadLetterSink {
  private readonly registered = new Set<string>();

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly now: () => number = Date.now,
  ) {}

  async publish(all: readonly DeadLetterInput[], consumer: string): Promise<void> {
    const letters = all.filter((l) => publishesDeadLetter(consumer, l));
    for (const l of all) {
      if (!publishesDeadLetter(consumer, l))
        deadLettersLeft.inc({ consumer, topic: l.sourceTopic, step: l.step });
    }
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
