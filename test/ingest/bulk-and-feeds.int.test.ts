import {
  type Config,
  createKafka,
  createProducer,
  createSchemaRegistry,
  ensureTopics,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import {
  createIngestApp,
  createIngestContext,
  type IngestResources,
  Publisher,
  registerIngestSchemas,
  staticApiKeyAuthenticator,
} from '@hub/ingest';
import { EventCodec, schemaVersions, tokenise, valueSubject } from '@hub/schemas';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { type Kafka, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaOutage } from '../support/outage.ts';
import { createTestTopics, testPrincipal as principal, readTopic, testConfig } from '../support/stack.ts';

const KEYS = [
  { key: 'hub-key', principal: principal('NCC', 'HUB') },
  { key: 'nimc-key', principal: principal('NIMC', 'IDENTITY_SOURCE') },
  { key: 'nibss-key', principal: principal('NIBSS', 'IDENTITY_SOURCE') },
];

let config: Config;
let kafka: Kafka;
let resources: IngestResources;
let app: ReturnType<typeof createIngestApp>;
let codec: EventCodec;

const json = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
  app.request(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  config = testConfig('ingestbulk');
  kafka = await createTestTopics(config);
  resources = await createIngestContext(config, { authenticate: staticApiKeyAuthenticator(KEYS) });
  app = createIngestApp(resources.ctx);
  codec = new EventCodec(createSchemaRegistry(config));
});

afterAll(async () => {
  await resources?.close();
});

describe('bulk status updates at the documented maximum', () => {
  it('accepts 100,000 records and puts every valid one on Kafka exactly once', async () => {
    const records = Array.from({ length: 100_000 }, (_, i) => ({
      status: i % 2 ? 'SWAPPED' : 'NORMAL',
      phoneNumber: `0803${String(i).padStart(7, '0')}`,
      reassignmentDate: '2025-01-01',
      occurrenceOfStatusDate: '2025-01-02',
    }));
    const started = performance.now();
    const res = await json('PUT', '/api/v1/phone/api/phone-numbers/status/bulk', records, {
      authorization: 'Bearer hub-key',
    });
    const seconds = (performance.now() - started) / 1000;
    expect(res.status).toBe(202);
    console.info(
      `HTTP bulk: 100000 records acknowledged in ${seconds.toFixed(2)} s (${Math.round(100_000 / seconds)} records/s)`,
    );

    const read = await readTopic(kafka, resources.ctx.topics.statusUpdates, 100_000, 120_000);
    expect(read).toHaveLength(100_000);
    const keys = new Set(read.map((m) => m.message.key?.toString()));
    expect(keys.size).toBe(100_000);
    const sample = await codec.decode('status-update', read[0]!.message.value);
    expect(sample.msisdn).toBe(read[0]!.message.key?.toString());
  }, 180_000);
});

describe('identity feeds through the webhook', () => {
  it('tokenises NIMC and NIBSS events, never publishing a raw identifier, and reports bad ones', async () => {
    const nimc = await json(
      'POST',
      '/api/v1/webhooks/receive',
      {
        source: 'NIMC',
        events: [
          { msisdn: '08031234567', action: 'LINK', nin: '12345678901', date: '2024-03-01' },
          { msisdn: '08031234567', action: 'LINK', nin: '1234', date: '2024-03-01' },
        ],
      },
      { 'x-api-key': 'nimc-key' },
    );
    expect(nimc.status).toBe(202);
    expect(await nimc.json()).toEqual({
      accepted: 1,
      rejected: 1,
      rejections: [{ index: 1, field: 'nin', reason: 'NIN must be exactly 11 digits' }],
    });

    const nibss = await json(
      'POST',
      '/api/v1/webhooks/receive',
      {
        source: 'NIBSS',
        events: [
          {
            msisdn: '2348031234567',
            action: 'LINK',
            bvn: '22123456789',
            holderNin: '12345678901',
            nuban: '0123456789',
            bankCode: '058',
            date: '2024-03-02',
          },
        ],
      },
      { authorization: 'Bearer nibss-key' },
    );
    expect(nibss.status).toBe(202);

    const [ninMsg] = await readTopic(kafka, resources.ctx.topics.ninLinkages, 1);
    const [bvnMsg] = await readTopic(kafka, resources.ctx.topics.bvnLinkages, 1);
    for (const m of [ninMsg!, bvnMsg!]) {
      const bytes = m.message.value!.toString('latin1');
      expect(bytes).not.toContain('12345678901');
      expect(bytes).not.toContain('22123456789');
      expect(bytes).not.toContain('0123456789');
    }
    const nin = await codec.decode('nin-linkage', ninMsg!.message.value);
    expect(nin).toMatchObject({
      msisdn: '2348031234567',
      action: 'LINK',
      ninToken: tokenise('NIN', '12345678901', config.TOKEN_SECRET),
      ninMasked: '*******8901',
      linkDate: '2024-03-01',
      source: 'WEBHOOK',
    });
    const bvn = await codec.decode('bvn-linkage', bvnMsg!.message.value);
    expect(bvn).toMatchObject({
      bvnMasked: '*******6789',
      holderNinToken: nin.ninToken,
      nubanMasked: '******6789',
      bankCode: '058',
    });
  });

  it('refuses a NIMC key posting NIBSS events, and requests without a key', async () => {
    const body = {
      source: 'NIBSS',
      events: [{ msisdn: '08031234567', action: 'LINK', bvn: '22123456789', date: '2024-03-02' }],
    };
    expect((await json('POST', '/api/v1/webhooks/receive', body, { 'x-api-key': 'nimc-key' })).status).toBe(
      403,
    );
    const anonymous = await json('POST', '/api/v1/webhooks/receive', body, {});
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('names every problem in an invalid request', async () => {
    const res = await json(
      'POST',
      '/api/v1/webhooks/receive',
      { source: 'NIMX', events: 'x' },
      { 'x-api-key': 'nimc-key' },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      detail: 'source: must be NIMC or NIBSS; events: is required and must be an array',
      code: 'VALIDATION_ERROR',
      errors: [
        { field: 'source', message: 'must be NIMC or NIBSS' },
        { field: 'events', message: 'is required and must be an array' },
      ],
    });
  });
});

describe('direct Kafka producers', () => {
  it('a record an operator produced with the older status schema (v1) decodes with today’s reader', async () => {
    const registry = createSchemaRegistry(config);
    const topic = resources.ctx.topics.statusUpdates;
    const v1 = schemaVersions('status-update')[0]!;
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(v1) },
      { subject: valueSubject(topic) },
    );
    const body = avro.Type.forSchema(v1 as avro.Schema).toBuffer({
      eventId: 'op-1',
      source: 'KAFKA',
      operator: 'MTN',
      msisdn: '2348039999999',
      status: 'CHURNED',
      occurrenceDate: '2025-05-01',
      reassignmentDate: '2025-05-01',
      remarks: null,
      occurredAt: Date.parse('2025-05-01'),
      receivedAt: Date.now(),
    });
    const frame = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), body]);
    frame.writeUInt32BE(id, 1);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: '2348039999999', value: frame }] });
    await producer.disconnect();
    const fresh = new EventCodec(registry);
    const decoded = await fresh.decode('status-update', frame);
    expect(decoded).toMatchObject({ eventId: 'op-1', status: 'CHURNED', batchId: null });
  });
});

describe('when Kafka does not take the write', () => {
  it('answers 503 with Retry-After and accepts nothing', async () => {
    const disconnected = createProducer(createKafka(config));
    const ownCodec = new EventCodec(createSchemaRegistry(config));
    await registerIngestSchemas(ownCodec, resources.ctx.topics);
    const down = createIngestApp({
      ...resources.ctx,
      publisher: new Publisher(disconnected, ownCodec, { timeoutMs: 2_000 }),
    });
    const res = await down.request('/api/v1/phone/api/phone-numbers/status', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: 'Bearer hub-key' },
      body: JSON.stringify({
        status: 'NORMAL',
        phoneNumber: '08031234567',
        occurrenceOfStatusDate: '2025-01-01',
      }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({
      status: 'Failure',
      data: { code: 'SERVICE_UNAVAILABLE' },
      statusCode: '503',
    });
  });
});

describe('when Kafka fails part-way through a bulk request', () => {
  /** An ingest app whose producer loses the broker right after its first send (chunks of 2). */
  async function failingAfterFirstChunk() {
    const outage = kafkaOutage(config);
    const producer = createProducer(outage.kafka);
    await producer.connect();
    const send = producer.send;
    let sends = 0;
    producer.send = async (record) => {
      const result = await send(record);
      if (++sends === 1) outage.cut();
      return result;
    };
    const ownCodec = new EventCodec(createSchemaRegistry(config));
    await registerIngestSchemas(ownCodec, resources.ctx.topics);
    // Topics of its own, so what it left on Kafka is all that is there.
    const prefix = `${config.TOPIC_PREFIX}partial${Math.random().toString(36).slice(2, 8)}.`;
    const topics = topicNames(prefix);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topicSpecs(prefix, 2));
    await admin.disconnect();
    await registerIngestSchemas(ownCodec, topics);
    const app = createIngestApp({
      ...resources.ctx,
      topics,
      publisher: new Publisher(producer, ownCodec, { chunkSize: 2, timeoutMs: 5_000 }),
    });
    return { app, topics, outage, close: () => producer.disconnect().catch(() => undefined) };
  }

  it('a bulk status update says which records are on Kafka, which may be, and which were not sent', async () => {
    const down = await failingAfterFirstChunk();
    try {
      const record = (n: number) => ({
        status: 'SWAPPED',
        phoneNumber: `0803000000${n}`,
        reassignmentDate: '2025-01-01',
        occurrenceOfStatusDate: '2025-01-02',
      });
      // Record 2 is invalid; the six valid ones go out as chunks [0,1] [3,4] [5,6].
      const body = [record(0), record(1), { status: 'NORMAL' }, record(3), record(4), record(5), record(6)];
      const res = await down.app.request('/api/v1/phone/api/phone-numbers/status/bulk', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: 'Bearer hub-key' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const answer = (await res.json()) as {
        data: {
          code: string;
          message: string;
          published: number[][];
          unconfirmed: number[][];
          notSent: number[][];
          link: string;
        };
      };
      expect(answer.data).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        published: [[0, 1]],
        unconfirmed: [[3, 4]],
        notSent: [[5, 6]],
      });
      expect(answer.data.message).toContain('2 of 6 valid records are on Kafka');
      expect(answer.data.message).not.toMatch(/nothing was accepted/);

      // What the answer says is on Kafka is on Kafka.
      const read = await readTopic(kafka, down.topics.statusUpdates, 2);
      expect(read.map((m) => m.message.key?.toString()).sort()).toEqual(['2348030000000', '2348030000001']);

      // The report at the link says the same.
      const report = await app.request(answer.data.link, { headers: { authorization: 'Bearer hub-key' } });
      expect(report.status).toBe(200);
      expect(((await report.json()) as { data: unknown }).data).toMatchObject({
        total: 7,
        accepted: 2,
        rejected: 1,
        kafka: { published: [[0, 1]], unconfirmed: [[3, 4]], notSent: [[5, 6]] },
      });
    } finally {
      await down.close();
    }
  }, 60_000);

  it('a retry under the same Idempotency-Key sends only what is not on Kafka, and a finished request is answered again without sending', async () => {
    const down = await failingAfterFirstChunk();
    try {
      const record = (n: number) => ({
        status: 'SWAPPED',
        phoneNumber: `0803300000${n}`,
        reassignmentDate: '2025-01-01',
        occurrenceOfStatusDate: '2025-01-02',
      });
      const body = JSON.stringify([record(0), record(1), record(2), record(3), record(4)]);
      const put = (key: string, payload = body) =>
        down.app.request('/api/v1/phone/api/phone-numbers/status/bulk', {
          method: 'PUT',
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer hub-key',
            'idempotency-key': key,
          },
          body: payload,
        });
      const first = await put('retry-1');
      expect(first.status).toBe(503);
      expect(((await first.json()) as { data: { published: number[][] } }).data.published).toEqual([[0, 1]]);
      down.outage.restore();

      const second = await put('retry-1');
      expect(second.status).toBe(202);
      const accepted = await second.json();
      const third = await put('retry-1');
      expect(third.status).toBe(202);
      expect(third.headers.get('idempotent-replayed')).toBe('true');
      expect(await third.json()).toEqual(accepted);

      // Five records, each on Kafka once: the first two were not sent again, the replay sent nothing.
      // Given time to land, a duplicate would arrive in the same read.
      await new Promise((r) => setTimeout(r, 1_000));
      const read = await readTopic(kafka, down.topics.statusUpdates, 5);
      expect(read).toHaveLength(5);
      expect(read.map((m) => m.message.key?.toString()).sort()).toEqual(
        [0, 1, 2, 3, 4].map((n) => `234803300000${n}`),
      );

      const reused = await put('retry-1', JSON.stringify([record(5)]));
      expect(reused.status).toBe(409);
      expect(((await reused.json()) as { data: { errors: { field: string }[] } }).data.errors[0]!.field).toBe(
        'Idempotency-Key',
      );
      const bad = await put('not a key!');
      expect(bad.status).toBe(400);
    } finally {
      await down.close();
    }
  }, 60_000);

  it('an identity feed batch says which events are on Kafka', async () => {
    const down = await failingAfterFirstChunk();
    try {
      const event = (n: number) => ({
        msisdn: `0803100000${n}`,
        action: 'LINK',
        nin: `1234567890${n}`,
        date: '2024-03-01',
      });
      const res = await down.app.request('/api/v1/webhooks/receive', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'nimc-key' },
        body: JSON.stringify({ source: 'NIMC', events: [event(0), event(1), event(2), event(3), event(4)] }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const answer = (await res.json()) as Record<string, unknown>;
      expect(answer).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        published: [[0, 1]],
        unconfirmed: [[2, 3]],
        notSent: [[4, 4]],
        rejected: 0,
      });
      expect(answer.detail).not.toMatch(/nothing was accepted/);
      const read = await readTopic(kafka, down.topics.ninLinkages, 2);
      expect(read.map((m) => m.message.key?.toString()).sort()).toEqual(['2348031000000', '2348031000001']);
    } finally {
      await down.close();
    }
  }, 60_000);
});
