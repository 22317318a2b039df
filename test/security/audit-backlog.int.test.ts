import { createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import { AuditLog } from '@hub/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaOutage } from '../support/outage.ts';
import { createTestTopics, readTopic, testConfig } from '../support/stack.ts';

const config = testConfig('auditbacklog', { KAFKA_PARTITIONS: '2' });
const topics = topicNames(config.TOPIC_PREFIX);
let codec: EventCodec;

beforeAll(async () => {
  await createTestTopics(config);
  codec = new EventCodec(createSchemaRegistry(config));
  await codec.register('audit', topics.audit);
});

const entry = (i: number) => ({
  actor: `user:${i % 50}`,
  organisation: 'BANKA',
  action: 'BULK_STATUS_UPDATE',
  target: `batch-${i}`,
  outcome: 'SUCCESS' as const,
  // About 300 bytes a record: 20,000 of them are ~6 MB, ~3 MB per partition, over the 1 MiB limit.
  details: { note: 'x'.repeat(240), i },
});

describe('the audit backlog across a Kafka outage', () => {
  const outage = kafkaOutage(config);
  const producer = createProducer(outage.kafka);

  afterAll(async () => {
    await producer.disconnect().catch(() => undefined);
  });

  it('keeps every entry while Kafka is away and delivers them all, in slices the broker accepts, once it is back', async () => {
    await producer.connect();
    const audit = new AuditLog(producer, codec, topics.audit, { flushIntervalMs: 60_000, retryMs: 60_000 });
    outage.cut();
    for (let i = 0; i < 20_000; i++) audit.record(entry(i));
    await audit.flush();
    expect(audit.queued).toBe(20_000);
    outage.restore();
    await audit.flush();
    expect(audit.queued).toBe(0);
    expect(audit.dropped).toBe(0);
    const read = await readTopic(outage.kafka, topics.audit, 20_000, 60_000);
    expect(read).toHaveLength(20_000);
    const targets = new Set<string>();
    for (const m of read) targets.add((await codec.decode('audit', m.message.value)).target ?? '');
    expect(targets.size).toBe(20_000);
  }, 120_000);

  it('drops the oldest beyond its bound and counts them, never silently', async () => {
    await producer.connect();
    const audit = new AuditLog(producer, codec, topics.audit, { flushIntervalMs: 60_000, maxQueued: 100 });
    const drops: [number, string][] = [];
    audit.onDropped = (count, reason) => void drops.push([count, reason]);
    outage.cut();
    for (let i = 0; i < 150; i++) audit.record(entry(i));
    expect(audit.queued).toBe(100);
    expect(audit.dropped).toBe(50);
    expect(drops.reduce((n, [c]) => n + c, 0)).toBe(50);
    expect(new Set(drops.map(([, r]) => r))).toEqual(new Set(['backlog-full']));
    outage.restore();
  }, 60_000);
});
