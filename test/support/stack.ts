import { randomBytes } from 'node:crypto';
import { type Config, createKafka, ensureTopics, loadConfig, topicSpecs } from '@hub/infra';
import type { Principal } from '@hub/ingest';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** A caller for a test's static API keys; the credential id is derived from the organisation. */
export function testPrincipal(
  organisation: string,
  type: Principal['type'],
  operatorCode: string | null = null,
): Principal {
  return { organisation, type, operatorCode, credentialId: `${organisation}-key` };
}

/** A short random id that makes a test's topics, groups, keys and tables its own. */
export const uniqueId = (): string => randomBytes(5).toString('hex');

/**
 * Configuration for one test: the local services, with a topic prefix, Redis key prefix and
 * ClickHouse database of its own, so tests run in parallel without seeing each other's data.
 */
export function testConfig(name: string, env: NodeJS.ProcessEnv = {}): Config {
  const id = `${name}_${uniqueId()}`;
  const { HUB_TEST_RUN } = loadConfig(process.env);
  const run = HUB_TEST_RUN ? `${HUB_TEST_RUN}.` : '';
  return loadConfig({
    ...process.env,
    LOG_LEVEL: 'error',
    TOPIC_PREFIX: `test.${run}${id}.`,
    REDIS_KEY_PREFIX: `test:${id}:`,
    CLICKHOUSE_DATABASE: `test_${id}`,
    ...env,
  });
}

export async function createTestTopics(config: Config): Promise<Kafka> {
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
  } finally {
    await admin.disconnect();
  }
  return kafka;
}

export interface ReadMessage {
  partition: number;
  offset: string;
  message: KafkaMessage;
}

/** Reads a topic from the beginning until `count` messages arrived (or fails after `timeoutMs`). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<ReadMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${uniqueId()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  const out: ReadMessage[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (count === 0) {
        clearTimeout(timer);
        resolve();
        return;
      }
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages)
              out.push({ partition: batch.partition, offset: message.offset, message });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
