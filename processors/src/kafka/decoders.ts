import {
  type EventCodec,
  type EventKind,
  type EventTypes,
  normaliseMsisdn,
  UndecodableRecordError,
} from '@hub/schemas';
import { type KafkaMessage, Partitioners } from 'kafkajs';
import { deadLetter, ok, type StepResult } from './results.ts';

export interface DecodeContext {
  topic: string;
  partition: number;
  /** Partition count of the topic, read from the cluster when the consumer starts. */
  partitionCount: number;
}

/** Turns one raw message into a value, or says why it cannot be processed. */
export type RecordDecoder<V> = (message: KafkaMessage, ctx: DecodeContext) => Promise<StepResult<V>>;

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition kafkajs' default partitioner (murmur2, same as the Java client) gives a key. Uses
 * the real partitioner rather than a copy of its hash, so the check cannot drift from producers.
 */
export function partitionForKey(key: Buffer | string, partitionCount: number): number {
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
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
  return async (message, ctx) => {
    let value: EventTypes[K];
    try {
      value = await codec.decode(kind, message.value);
    } catch (err) {
      if (err instanceof UndecodableRecordError) return deadLetter('decode', err.message);
      throw err;
    }
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
}
