import {
  type Config,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  ensureTopics,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import type { Redis } from 'ioredis';
import { KafkaDeadLetters, LoggedDeadLetters } from '../kafka/dead-letters.ts';
import type { Log } from '../kafka/logger.ts';
import { createStateBuilder } from './builder.ts';

export interface RunningStateBuilder {
  redis: Redis;
  /** Drains the in-flight chunk, commits, then closes every client. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StateBuilderRunOptions {
  groupId: string;
  publishStateChanges: boolean;
  /** False for a replay: its dead letters were published by the first pass, so they are only logged. */
  republishDeadLetters?: boolean;
  log: Log;
  maxChunkSize?: number;
  /** Consumer group session timeout; a killed member's partitions move on after this long. */
  sessionTimeoutMs?: number;
}

/** Wires clients from config, makes sure the topics exist, and starts consuming. */
export async function runStateBuilder(
  config: Config,
  options: StateBuilderRunOptions,
): Promise<RunningStateBuilder> {
  const kafka = createKafka(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
  } finally {
    await admin.disconnect();
  }
  const codec = new EventCodec(createSchemaRegistry(config));
  await codec.register('state-change', topics.stateChanges);
  const producer = createProducer(kafka);
  await producer.connect();
  const redis = createRedis(config);
  const builder = createStateBuilder({
    kafka,
    redis,
    codec,
    topics,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    groupId: options.groupId,
    deadLetters:
      options.republishDeadLetters === false
        ? new LoggedDeadLetters(options.log)
        : new KafkaDeadLetters(producer, codec),
    ...(options.publishStateChanges ? { stateChanges: { producer } } : {}),
    ...(options.maxChunkSize === undefined ? {} : { maxChunkSize: options.maxChunkSize }),
    log: options.log,
    ...(options.sessionTimeoutMs === undefined
      ? {}
      : {
          consumerConfig: {
            sessionTimeout: options.sessionTimeoutMs,
            heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 6)),
          },
        }),
  });
  await builder.start();
  let stopping: Promise<void> | null = null;
  return {
    redis,
    stop() {
      stopping ??= (async () => {
        await builder.stop();
        await producer.disconnect();
        await redis.quit();
      })();
      return stopping;
    },
  };
}
