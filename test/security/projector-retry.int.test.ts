import { randomUUID } from 'node:crypto';
import { createProducer, createRedis, createSchemaRegistry, partitionFor, topicNames } from '@hub/infra';
import { AccountCodec, type AccountEvent, AccountsProjector, securityKeys } from '@hub/security';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTopics, testConfig } from '../support/stack.ts';

const config = testConfig('projretry', { KAFKA_PARTITIONS: '2' });
const topic = topicNames(config.TOPIC_PREFIX).accounts;
const keys = securityKeys(config.REDIS_KEY_PREFIX);
let kafka: Kafka;
let redis: Redis;
let codec: AccountCodec;

beforeAll(async () => {
  kafka = await createTestTopics(config);
  redis = createRedis(config);
  codec = new AccountCodec(createSchemaRegistry(config));
  await codec.register(topic);
});

afterAll(async () => {
  const left = await redis.keys(`${config.REDIS_KEY_PREFIX}*`);
  if (left.length > 0) await redis.del(...left);
  redis.disconnect();
});

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not so within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('accounts projector and a record it cannot read yet', () => {
  it('refuses only that organisation until a retry reads the record, then applies it', async () => {
    const event: AccountEvent = {
      eventId: randomUUID(),
      source: 'TEST',
      type: 'ORGANISATION_UPSERTED',
      actor: 'system:test',
      organisation: {
        id: 'BANKZ',
        name: 'Bank Z',
        type: 'SERVICE_PROVIDER',
        operatorCode: null,
        ranges: [],
        verifyPerMinute: 100,
        generalPerMinute: 100,
        active: true,
      },
      user: null,
      apiKey: null,
      occurredAt: Date.now(),
      receivedAt: Date.now(),
    };
    const producer = createProducer(kafka);
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'BANKZ:org', value: codec.encode(event), partition: partitionFor('BANKZ', 2) }],
    });
    await producer.disconnect();

    // The schema registry "is down" for the first reads.
    let registryDown = true;
    const flaky = {
      decode: async (bytes: Buffer | null) => {
        if (registryDown) throw new Error('schema registry unreachable');
        return codec.decode(bytes);
      },
    } as unknown as AccountCodec;
    const logged: string[] = [];
    const projector = new AccountsProjector({
      kafka,
      redis,
      keys,
      codec: flaky,
      topic,
      onApplied: () => {},
      log: (level, message) => void logged.push(`${level}: ${message}`),
      retryUnreadableMs: 100,
    });
    await projector.start();
    try {
      expect(projector.refuses('BANKZ')).toBe(true);
      expect(projector.refuses('BANKA')).toBe(false);
      expect(projector.unreadableRecords).toHaveLength(1);
      expect(logged.some((l) => l.startsWith('error:'))).toBe(true);
      expect(await redis.hget(keys.organisation('BANKZ'), 'v')).toBeNull();

      registryDown = false;
      await eventually(() => !projector.refuses('BANKZ'));
      expect(JSON.parse((await redis.hget(keys.organisation('BANKZ'), 'v')) ?? 'null')?.name).toBe('Bank Z');
      expect(projector.unreadableRecords).toHaveLength(0);
    } finally {
      await projector.stop();
    }
  });
});
