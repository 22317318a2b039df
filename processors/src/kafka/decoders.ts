import { partitionFor } from '@hub/infra';
import {
  type EventCodec,
  type EventKind,
  type EventTypes,
  normaliseMsisdn,
  UndecodableRecordError,
} from '@hub/schemas';
import type { KafkaMessage } from 'kafkajs';
import { deadLetter, ok, type StepResult } from './results.ts';

export interface DecodeContext {
  topic: string;
  partition: number;
  /** Partition count of the topic, read from the cluster when the consumer starts. */
  partitionCount: number;
}

/**
 * Turns one raw message into a value, or says why it cannot be processed. Synchronous when it can
 * be (the codec has the writer schema): a promise per record is a measurable cost on the hot path.
 */
export type RecordDecoder<V> = (
  message: KafkaMessage,
  ctx: DecodeContext,
) => StepResult<V> | Promise<StepResult<V>>;

/**
 * The partition Kafka's default partitioner (murmur2, as the Java client and kafkajs
 * `DefaultPartitioner`) gives a key. infra's murmur2 is 32-bit integer arithmetic; kafkajs' own
 * goes through a 64-bit Long per step and cost several µs per record here. The test checks the two
 * agree on every partition count.
 */
export function partitionForKey(key: Buffer | string, partitionCount: number): number {
  return partitionFor(key, partitionCount);
}

type MsisdnKind = { [K in EventKind]: EventTypes[K] extends { msisdn: string } ? K : never }[EventKind];

/**
 * Decoder for the topics keyed by canonical MSISDN: Confluent-framed Avro of `kind`, whose msisdn
 * is canonical, equals the record key, and whose key murmur2-hashes to the partition the record is
 * on. Anything else is dead-lettered with a reason naming the step that refused it.
 */
export function msisdnEventDecoder<K extends MsisdnKind>(
  codec: EventCodec,
  kind: K,
): RecordDecoder<EventTypes[K]> {
  const check = (
    message: KafkaMessage,
    ctx: DecodeContext,
    value: EventTypes[K],
  ): StepResult<EventTypes[K]> => {
    const msisdn = (value as { msisdn: string }).msisdn;
    const check = normaliseMsisdn(msisdn);
    if (!check.ok) return deadLetter('validate', `msisdn ${check.reason}`);
    if (check.msisdn !== msisdn) {
      return deadLetter('validate', `msisdn '${msisdn}' is not canonical (expected '${check.msisdn}')`);
    }
    const key = message.key?.toString('utf8') ?? null;
    if (key !== msisdn) {
      return deadLetter(
        'validate',
        key === null
          ? 'record has no key (expected its msisdn)'
          : `key '${key}' differs from msisdn '${msisdn}'`,
      );
    }
    const expected = partitionForKey(message.key!, ctx.partitionCount);
    if (expected !== ctx.partition) {
      return deadLetter(
        'partition',
        `key '${key}' hashes to partition ${expected} of ${ctx.partitionCount}, found on partition ${ctx.partition}`,
      );
    }
    return ok(value);
  };
  return avroDecoder(codec, kind, check);
}

/**
 * Confluent-framed Avro of `kind`, then `then` on the decoded event. Synchronous once the codec has
 * the writer schema (no promise per record); a record that cannot be decoded is dead-lettered.
 */
export function avroDecoder<K extends EventKind, V>(
  codec: EventCodec,
  kind: K,
  then: (message: KafkaMessage, ctx: DecodeContext, event: EventTypes[K]) => StepResult<V>,
): RecordDecoder<V> {
  const slow = async (message: KafkaMessage, ctx: DecodeContext): Promise<StepResult<V>> => {
    try {
      return then(message, ctx, await codec.decode(kind, message.value));
    } catch (err) {
      if (err instanceof UndecodableRecordError) return deadLetter('decode', err.message);
      throw err;
    }
  };
  return (message, ctx) => {
    let event: EventTypes[K] | undefined;
    try {
      event = codec.decodeCached(kind, message.value);
    } catch (err) {
      if (err instanceof UndecodableRecordError) return deadLetter('decode', err.message);
      throw err;
    }
    return event === undefined ? slow(message, ctx) : then(message, ctx, event);
  };
}
