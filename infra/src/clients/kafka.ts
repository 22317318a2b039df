import {
  Kafka,
  type KafkaConfig,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerBatch,
  type ProducerConfig,
  type ProducerRecord,
} from 'kafkajs';
import type { Config, LogLevel } from '../config.ts';

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
 * - acks=all on every send (kafkajs takes acks per send, not per producer).
 */
export function createProducer(kafka: Kafka, overrides: ProducerConfig = {}): Producer {
  const producer = kafka.producer({
    ...overrides,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  return {
    ...producer,
    send: (record: ProducerRecord) => producer.send({ ...record, acks: -1 }),
    sendBatch: (batch: ProducerBatch) => producer.sendBatch({ ...batch, acks: -1 }),
  };
}
