import { createLogger, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { auditEventOf } from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionConsumer } from '../../delink/src/consume.ts';
import { createTestTopics, testConfig } from '../support/stack.ts';

const config = testConfig('start_offsets');
const topics = topicNames(config.TOPIC_PREFIX);
const log = createLogger({ LOG_LEVEL: 'error' }, 'start-offsets-test');
const codec = new EventCodec(createSchemaRegistry(config));
let kafka: Awaited<ReturnType<typeof createTestTopics>>;
let producer: ReturnType<typeof createProducer>;

beforeAll(async () => {
  kafka = await createTestTopics(config);
  await codec.register('audit', topics.audit);
  producer = createProducer(kafka);
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
});

async function send(target: string, partition: number) {
  const value = codec.encode(
    'audit',
    auditEventOf(
      { actor: 'test', organisation: null, action: 'PIN', target, outcome: 'SUCCESS' },
      Date.now(),
    ),
  );
  await producer.send({ topic: topics.audit, messages: [{ partition, key: target, value }] });
}

function consumer(groupId: string, seen: string[]) {
  return new PartitionConsumer<'audit'>({
    kafka,
    codec,
    groupId,
    topics: new Map([[topics.audit, 'audit']]),
    log,
    fromBeginning: false,
    handle: async (records) => {
      for (const r of records) seen.push(r.value.target ?? '');
    },
  });
}

async function until(what: string, probe: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a group that starts at the end of its partitions', () => {
  it('skips what came before its first start, and nothing that lands while it is away', async () => {
    const groupId = `${config.TOPIC_PREFIX}pinned`;
    await send('before', 0);
    const seen: string[] = [];
    const first = consumer(groupId, seen);
    await first.start();
    await send('while-running', 0);
    await until('the record sent while running', () => seen.includes('while-running'));
    await first.stop();

    // Partition 1 has had no record and no commit of this group: only the pinned start keeps the
    // record below from being skipped by a fresh "latest" at the next join.
    await send('while-away', 1);
    const second = consumer(groupId, seen);
    await second.start();
    try {
      await until('the record sent while the group was away', () => seen.includes('while-away'));
    } finally {
      await second.stop();
    }
    expect(seen).toEqual(['while-running', 'while-away']);
  }, 60_000);
});
