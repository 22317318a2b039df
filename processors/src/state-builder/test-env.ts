import { randomBytes } from 'node:crypto';
import {
  type Config,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  ensureTopics,
  loadConfig,
  type TopicNames,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { KafkaDeadLetters } from '../kafka/dead-letters.ts';
import { createStateBuilder, type StateBuilder, type StateBuilderOptions } from './builder.ts';
import { registerInputs } from './scenarios.ts';

/**
 * An isolated environment on the shared local services for one test or benchmark: its own topic
 * prefix, Redis key prefix and consumer groups, so runs never see each other's data.
 */
export interface StateTestEnv {
  id: string;
  config: Config;
  env: Record<string, string>;
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  codec: EventCodec;
  redis: Redis;
  topics: TopicNames;
  close(): Promise<void>;
}

export async function createStateTestEnv(partitions = 3): Promise<StateTestEnv> {
  const id = randomBytes(4).toString('hex');
  // The integration run's name (set by its global setup) lets the run delete its topics at the end.
  const { HUB_TEST_RUN } = loadConfig(process.env);
  const run = HUB_TEST_RUN ? `${HUB_TEST_RUN}.` : '';
  const env = {
    TOPIC_PREFIX: `test-${run}${id}.`,
    REDIS_KEY_PREFIX: `test-${id}:`,
    KAFKA_PARTITIONS: String(partitions),
    KAFKA_CLIENT_ID: `state-test-${id}`,
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig({ ...process.env, ...env });
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(config.TOPIC_PREFIX);
  await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, partitions));
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerInputs(codec, topics);
  await codec.register('state-change', topics.stateChanges);
  const producer = createProducer(kafka);
  await producer.connect();
  const redis = createRedis(config);
  return {
    id,
    config,
    env,
    kafka,
    admin,
    producer,
    codec,
    redis,
    topics,
    async close() {
      // Only this test's keys; its topics go when the integration run ends (test/support/global-setup.ts).
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${env.REDIS_KEY_PREFIX}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
      await producer.disconnect();
      await admin.disconnect();
      await redis.quit();
    },
  };
}

/**
 * A state builder over the environment's topics, Redis keys and codec, in consumer group
 * `groupId`, dead letters republished through its producer and nothing logged; `overrides` adds or
 * replaces options (state changes, chunk size, another key prefix).
 */
export function createTestStateBuilder(
  t: StateTestEnv,
  groupId: string,
  overrides: Partial<StateBuilderOptions> = {},
): StateBuilder {
  return createStateBuilder({
    kafka: t.kafka,
    redis: t.redis,
    codec: t.codec,
    topics: t.topics,
    redisKeyPrefix: t.config.REDIS_KEY_PREFIX,
    groupId,
    deadLetters: new KafkaDeadLetters(t.producer, t.codec),
    log: () => {},
    ...overrides,
  });
}

/** Records in the four input topics the group has not committed past yet. */
export async function groupLag(admin: Admin, topics: TopicNames, groupId: string): Promise<number> {
  const inputs = [topics.statusUpdates, topics.ninLinkages, topics.bvnLinkages, topics.delink];
  const committed = await admin.fetchOffsets({ groupId, topics: inputs });
  const at = new Map<string, bigint>();
  for (const t of committed)
    for (const p of t.partitions) at.set(`${t.topic}/${p.partition}`, BigInt(p.offset));
  let lag = 0n;
  for (const topic of inputs) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      const c = at.get(`${topic}/${p.partition}`) ?? -1n;
      lag += BigInt(p.high) - (c < 0n ? BigInt(p.low) : c);
    }
  }
  return Number(lag);
}

export async function waitForCatchUp(
  admin: Admin,
  topics: TopicNames,
  groupId: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await groupLag(admin, topics, groupId);
    if (lag === 0) return;
    if (Date.now() > deadline)
      throw new Error(`group ${groupId} still ${lag} records behind after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
