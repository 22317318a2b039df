import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { Config } from '../config.ts';
import { murmur2 } from '../partitioning.ts';

/** A keyed record with its value already encoded (Confluent-framed Avro). */
export interface KeyedRecord {
  key: string;
  value: Buffer;
}

/** A producer for one high-volume stream of small keyed records, sent in slices. */
export interface RecordProducer {
  /**
   * Resolves once every record of the slice is written with acks=all. One send at a time: the
   * client numbers a batch when it is answered, so overlapping sends can reuse sequence numbers.
   */
  send(topic: string, records: readonly KeyedRecord[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A producer of keyed records on @platformatic/kafka, for streams where the Kafka client's cost per
 * record dominates (the verification usage records: a record per verified number): it costs about
 * half of kafkajs' CPU per record here (bench rows "client: … produce", and the usage-record
 * micro-benchmark). The same guarantees as `createProducer`: idempotent, acks=all on every send,
 * and Kafka's Java partitioning (`toPositive(murmur2(key)) % partitions`), so a record lands on the
 * partition a kafkajs producer would give its key.
 */
/** `toPositive(murmur2(key))`, before the modulo (the key is always set: records are keyed). */
export function javaPartition(_message: unknown, key: Buffer | undefined): number {
  return key === undefined ? 0 : murmur2(key) & 0x7fffffff;
}

export function createRecordProducer(
  config: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID'>,
): RecordProducer {
  const make = () =>
    new Producer({
      clientId: config.KAFKA_CLIENT_ID,
      bootstrapBrokers: config.KAFKA_BROKERS,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Its `compatibilityPartitioner` gives the same numbers through a slower murmur2 (a tenth of
      // the client's CPU here); the client takes the result modulo the partition count.
      partitioner: javaPartition,
      autocreateTopics: false,
    });
  let producer = make();
  // The client moves a partition's sequence number on success only; a batch whose answer was lost
  // may be on the log, and the next one of the same length would be dropped by the broker as its
  // duplicate, and acknowledged. After a failed send, a new producer (a new producer id), as
  // createProducer does.
  let suspect = false;
  return {
    async send(topic, records) {
      if (records.length === 0) return;
      if (suspect) {
        await producer.close().catch(() => undefined);
        producer = make();
        suspect = false;
      }
      const messages = new Array(records.length);
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        messages[i] = { topic, key: Buffer.from(r.key), value: r.value };
      }
      try {
        await producer.send({ messages });
      } catch (err) {
        suspect = true;
        throw err;
      }
    },
    close: () => producer.close(),
  };
}
