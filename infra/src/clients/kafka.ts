import { randomBytes } from 'node:crypto';
import {
  type ICustomPartitioner,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Producer,
  type ProducerBatch,
  type ProducerConfig,
  type ProducerRecord,
} from 'kafkajs';
import type { Config, LogLevel } from '../config.ts';
import { partitionFor } from '../partitioning.ts';

const LOG_LEVELS: Record<LogLevel, logLevel> = {
  debug: logLevel.DEBUG,
  info: logLevel.INFO,
  warn: logLevel.WARN,
  error: logLevel.ERROR,
};

export function kafkaLogLevel(level: LogLevel): logLevel {
  return LOG_LEVELS[level];
}

export function createKafka(
  config: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID' | 'LOG_LEVEL'>,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId: config.KAFKA_CLIENT_ID,
    brokers: config.KAFKA_BROKERS,
    logLevel: kafkaLogLevel(config.LOG_LEVEL),
    ...overrides,
  });
}

/**
 * The only way the hub should make a producer. Safety settings are applied
 * after the caller's overrides so they cannot be switched off by accident:
 * - idempotent: the broker drops duplicates caused by retries;
 * - maxInFlightRequests 1: kafkajs tracks idempotent sequence numbers per
 *   request, so more than one request in flight can reorder or fail them;
 * - murmur2 partitioner (same as the Java client): partitioning is part of
 *   the contract between producers and processors;
 * - acks=all on every send (kafkajs takes acks per send, not per producer);
 * - one send in flight at a time (oneSendAtATime says why): callers that want throughput batch
 *   their records into fewer sends (the delivery log, the audit backlog, the state builder);
 * - a new producer (a new producer id) after a failed send, whose outcome is unknown.
 */
export function createProducer(kafka: Kafka, overrides: ProducerConfig = {}): Producer {
  const make = () =>
    kafka.producer({
      ...overrides,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: murmur2Partitioner,
    });
  const first = make();
  let current = first;
  let suspect = false;
  // kafkajs rolls a partition's sequence number back when a send fails, but a request whose
  // answer was lost (the broker stopped after appending it) may be on the log: the next batch of
  // the same length would reuse its sequence numbers and the broker would drop it as a duplicate
  // while acknowledging it (the Kafka outage fault scenario lost acknowledged writes so). After a
  // failed send the next one goes through a new producer, with a new producer id.
  const guarded = async <T>(send: (p: Producer) => Promise<T>): Promise<T> => {
    if (suspect) {
      await current.disconnect().catch(() => undefined);
      current = make();
      await current.connect(); // Kafka still away: this send fails and the next one tries again
      suspect = false;
    }
    try {
      return await send(current);
    } catch (err) {
      suspect = true;
      throw err;
    }
  };
  return oneSendAtATime({
    // `events`, `on` and `logger` are the first producer's: nothing in the hub listens to them.
    ...first,
    connect: () => current.connect(),
    disconnect: () => current.disconnect(),
    send: (record: ProducerRecord) => guarded((p) => p.send({ ...record, acks: -1 })),
    sendBatch: (batch: ProducerBatch) => guarded((p) => p.sendBatch({ ...batch, acks: -1 })),
  });
}

/**
 * kafkajs' `DefaultPartitioner`, partition for partition (the Java client's: an explicit partition,
 * else `toPositive(murmur2(key)) % partitions`, else round robin over the partitions with a
 * leader), with the 32-bit murmur2 of partitioning.ts: kafkajs hashes through a 64-bit Long per
 * step and filters the partition list for every record, a tenth of a small record's produce cost.
 */
export const murmur2Partitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const { key } = message;
    if (key !== null && key !== undefined)
      return partitionFor(Buffer.isBuffer(key) ? key : String(key), partitionMetadata.length);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    let counter = counters.get(topic) ?? randomBytes(4).readUInt32BE(0);
    counter = (counter + 1) | 0;
    counters.set(topic, counter);
    if (available.length > 0) return available[(counter & 0x7fffffff) % available.length]!.partitionId;
    return (counter & 0x7fffffff) % partitionMetadata.length;
  };
};

/**
 * The producer with one send in flight at a time: a send starts once the previous one has settled.
 * kafkajs' idempotent producer numbers a send when it builds the request, and sends that overlap
 * (concurrent requests, or a retry still running after the API answered 503) can reuse sequence
 * numbers, so the broker drops a later batch as a duplicate and acknowledges it (kafkajs issue
 * #1005). The Kafka outage fault scenario met it: acknowledged writes missing from Kafka, as many
 * refused ones on it. A caller must therefore settle its sends before it retries them: one that
 * gave up on a send and sent again would queue behind its own abandoned send (the state builder
 * sends a round's slices one after another, so a failed round leaves none in flight).
 */
export function oneSendAtATime(producer: Producer): Producer {
  let tail: Promise<unknown> = Promise.resolve();
  const queued = <T>(send: () => Promise<T>): Promise<T> => {
    const result = tail.then(send);
    tail = result.catch(() => undefined);
    return result;
  };
  return {
    ...producer,
    send: (record: ProducerRecord) => queued(() => producer.send(record)),
    sendBatch: (batch: ProducerBatch) => queued(() => producer.sendBatch(batch)),
  };
}
