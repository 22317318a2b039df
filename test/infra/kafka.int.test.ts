import { type Admin, type Consumer, type KafkaMessage, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKafka,
  createProducer,
  ensureTopics,
  loadConfig,
  partitionFor,
  topicSpecs,
} from '../../infra/src/index.ts';
import { uniqueId } from './helpers.ts';

const config = loadConfig();
// Quiet: a new topic's metadata lookups answer UNKNOWN_TOPIC_OR_PARTITION until it propagates, and kafkajs logs each.
const kafka = createKafka(config, { logLevel: logLevel.NOTHING });
const id = uniqueId();
const PARTITIONS = 3;
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
});

describe('ensureTopics', () => {
  it('creates missing topics once and reports existing ones on the next call', async () => {
    const specs = topicSpecs(`it.${id}.`, PARTITIONS);
    const first = await ensureTopics(admin, specs);
    expect(first.created).toHaveLength(specs.length);
    const second = await ensureTopics(admin, specs);
    expect(second.created).toEqual([]);
    expect(second.existing).toHaveLength(specs.length);
    const configs = await admin.describeConfigs({
      resources: [{ type: 2, name: `it.${id}.state-changes`, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('compact');
  });

  it('refuses a topic whose partition count differs from the specification', async () => {
    const specs = topicSpecs(`it.${id}.`, PARTITIONS + 1);
    await expect(ensureTopics(admin, specs)).rejects.toThrow(/has 3 partitions, expected 4/);
  });
});

describe('keyed produce and consume', () => {
  const topic = `it.keyed.${id}`;
  let consumer: Consumer;

  afterAll(async () => {
    await consumer?.disconnect();
  });

  it('places every message of a key on the partition murmur2 gives it, across partitions', async () => {
    await ensureTopics(admin, [{ topic, numPartitions: PARTITIONS, configEntries: [] }]);
    const producer = createProducer(kafka);
    await producer.connect();
    const keys = Array.from({ length: 24 }, (_, i) => `23480${String(10_000_000 + i * 7_777)}`);
    const sent = keys.flatMap((key) => [1, 2, 3].map((n) => ({ key, value: `${key}:${n}` })));
    const results = await producer.send({ topic, messages: sent });
    expect(results.every((r) => r.errorCode === 0)).toBe(true);
    await producer.disconnect();

    consumer = kafka.consumer({ groupId: `it-group-${id}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { partition: number; message: KafkaMessage }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            received.push({ partition, message });
            if (received.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });

    const partitionsOfKey = new Map<string, Set<number>>();
    for (const { partition, message } of received) {
      const key = message.key!.toString();
      expect(partition).toBe(partitionFor(key, PARTITIONS));
      partitionsOfKey.set(key, (partitionsOfKey.get(key) ?? new Set()).add(partition));
    }
    expect([...partitionsOfKey.values()].every((set) => set.size === 1)).toBe(true);
    expect(new Set(received.map((r) => r.partition)).size).toBeGreaterThanOrEqual(2);

    // Per key, consumption order is production order.
    for (const key of keys) {
      const values = received
        .filter((r) => r.message.key!.toString() === key)
        .map((r) => r.message.value!.toString());
      expect(values).toEqual([`${key}:1`, `${key}:2`, `${key}:3`]);
    }
  });
});

describe('createProducer', () => {
  it('keeps acks=all even when a caller asks for less', async () => {
    const topic = `it.acks.${id}`;
    await ensureTopics(admin, [{ topic, numPartitions: 1, configEntries: [] }]);
    const producer = createProducer(kafka, { idempotent: false, maxInFlightRequests: 5 });
    await producer.connect();
    // kafkajs rejects acks other than -1 on an idempotent producer; the factory overrides it.
    const [result] = await producer.send({ topic, acks: 1, messages: [{ key: 'k', value: 'v' }] });
    expect(result?.errorCode).toBe(0);
    await producer.disconnect();
  });
});
