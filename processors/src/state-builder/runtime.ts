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
import { DataSubjectCodec, EventCodec } from '@hub/schemas';
import type { Redis } from 'ioredis';
import { ErasureFollower } from '../data-subject/follower.ts';
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
  const registry = createSchemaRegistry(config);
  const codec = new EventCodec(registry);
  await codec.register('state-change', topics.stateChanges);
  const dataSubjectCodec = new DataSubjectCodec(registry);
  await dataSubjectCodec.register(topics.dataSubject);
  const producer = createProducer(kafka);
  await producer.connect();
  const redis = createRedis(config);
  // Every erasure already decided is known before the first event is applied, so neither a restart
  // nor a rebuild applies an erased linkage; the builder itself decides (and adds) the new ones.
  const follower = new ErasureFollower({
    kafka,
    codec: dataSubjectCodec,
    topic: topics.dataSubject,
    name: 'state-builder',
    log: options.log,
  });
  await follower.start();
  const erasureAdmin = kafka.admin();
  await erasureAdmin.connect();
  const builder = createStateBuilder({
    kafka,
    redis,
    codec,
    topics,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    groupId: options.groupId,
    erasures: { set: follower.erasures, codec: dataSubjectCodec, producer, admin: erasureAdmin },
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
        await follower.stop();
        await erasureAdmin.disconnect();
        await producer.disconnect();
        await redis.quit();
      })();
      return stopping;
    },
  };
}
