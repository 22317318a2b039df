import { eventsOf, type SampleEvent, type SampleEventKind } from '@hub/dev-tools/sample/events';
import { generatePopulation } from '@hub/dev-tools/sample/population';
import { publishSample, sampleTopics } from '@hub/dev-tools/sample/publish';
import { createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { partitionFor } from '@hub/infra/partitioning';
import { EventCodec } from '@hub/schemas';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTopics, readTopic, testConfig } from '../support/stack.ts';

const config = testConfig('sample');
const topics = topicNames(config.TOPIC_PREFIX);
const population = generatePopulation({
  numbers: 300,
  seed: 99,
  tokenSecret: config.TOKEN_SECRET,
  endDate: '2025-06-30',
});
const events = [...eventsOf(population)];
let kafka: Kafka;

beforeAll(async () => {
  kafka = await createTestTopics(config);
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(config.TOPIC_PREFIX));
    await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.disconnect();
  }
});

describe('publishing the sample to Kafka', () => {
  it('publishes every delivery as decodable Avro, keyed by MSISDN on its murmur2 partition, in arrival order', async () => {
    const producer = createProducer(kafka);
    await producer.connect();
    const registry = createSchemaRegistry(config);
    let result: Awaited<ReturnType<typeof publishSample>>;
    try {
      // A small batch size so the test crosses several sendBatch calls.
      result = await publishSample(population, { producer, registry, topics, batchSize: 97 });
    } finally {
      await producer.disconnect();
    }
    expect(result.total).toBe(events.length);

    const codec = new EventCodec(registry);
    const topicOf = sampleTopics(topics);
    for (const kind of Object.keys(topicOf) as SampleEventKind[]) {
      const sent = events.filter((e) => e.kind === kind);
      expect(result.counts[kind]).toBe(sent.length);
      const read = await readTopic(kafka, topicOf[kind], sent.length);
      expect(read).toHaveLength(sent.length);
      const decoded: { msisdn: string; value: SampleEvent['value']; partition: number; offset: number }[] =
        [];
      for (const r of read) {
        const value = await codec.decode(kind, r.message.value);
        const key = r.message.key?.toString('utf8') ?? '';
        expect(key).toBe(value.msisdn);
        expect(r.partition).toBe(partitionFor(key, config.KAFKA_PARTITIONS));
        decoded.push({ msisdn: key, value, partition: r.partition, offset: Number(r.offset) });
      }
      // Per number (hence per partition), the topic holds the deliveries in the sample's arrival order.
      const byNumber = (list: { msisdn: string; value: SampleEvent['value'] }[]) => {
        const m = new Map<string, SampleEvent['value'][]>();
        for (const x of list) m.set(x.msisdn, [...(m.get(x.msisdn) ?? []), x.value]);
        return m;
      };
      decoded.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      // A topic's newest schema may add fields with defaults (delink v2): the sample's own fields
      // must come back as sent, and any added field holds its default.
      const expected = byNumber(sent);
      const got = new Map<string, SampleEvent['value'][]>();
      for (const [msisdn, values] of byNumber(decoded)) {
        got.set(
          msisdn,
          values.map((value, i) => {
            const own = expected.get(msisdn)?.[i] ?? {};
            const plain: Record<string, unknown> = {};
            for (const [field, v] of Object.entries(value)) {
              if (field in own) plain[field] = v;
              else
                expect([null, 0, '[]'], `${kind} ${field}`).toContain(
                  Array.isArray(v) ? JSON.stringify(v) : v,
                );
            }
            return plain as unknown as SampleEvent['value'];
          }),
        );
      }
      expect(got).toEqual(expected);
    }
  });
});
