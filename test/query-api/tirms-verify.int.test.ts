import {
  type ExpectedState,
  expectedState,
  generatePopulation,
  publishSample,
} from '@hub/dev-tools/sample/index';
import { createKafka, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { jsonLog } from '@hub/processors/kafka/logger';
import { type RunningStateBuilder, runStateBuilder } from '@hub/processors/state-builder/runtime';
import { groupLag } from '@hub/processors/state-builder/test-env';
import { EventCodec, nationalForm, operatorByCode } from '@hub/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';
import { readTopic } from '../support/stack.ts';

const VERIFY = '/api/v1/phone/api/phone-numbers/verify';
const FIELDS = [
  'status',
  'requestId',
  'verificationStatus',
  'reassignmentDate',
  'verificationTimestamp',
  'occurrenceOfStatusDate',
  'mobileNetwork',
  'msisdn',
  'errorMessage',
].sort();

interface Item {
  status: string;
  requestId: string;
  verificationStatus: 'VERIFIED' | 'FAILED';
  reassignmentDate: string | null;
  verificationTimestamp: string;
  occurrenceOfStatusDate: string | null;
  mobileNetwork: string | null;
  msisdn: string;
  errorMessage: string | null;
}

let h: Harness;
let builder: RunningStateBuilder;
let bank: string;
let otherBank: string;
let expected: ExpectedState[];

beforeAll(async () => {
  h = await createHarness('tirmsverify');
  bank = await h.organisation({
    id: 'VBANK',
    name: 'Verify Bank',
    type: 'SERVICE_PROVIDER',
    verifyPerMinute: 100_000,
  });
  otherBank = await h.organisation({ id: 'OBANK', name: 'Other Bank', type: 'SERVICE_PROVIDER' });
  const population = generatePopulation({
    numbers: 600,
    seed: 11,
    tokenSecret: h.config.TOKEN_SECRET,
    endDate: '2025-06-30',
  });
  expected = expectedState(population);
  const topics = topicNames(h.config.TOPIC_PREFIX);
  const kafka = createKafka(h.config);
  const producer = createProducer(kafka);
  await producer.connect();
  await publishSample(population, { producer, registry: createSchemaRegistry(h.config), topics });
  await producer.disconnect();
  const groupId = `${h.config.TOPIC_PREFIX}state-builder`;
  builder = await runStateBuilder(h.config, {
    groupId,
    publishStateChanges: false,
    log: jsonLog('test', 'error'),
  });
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + 90_000;
  while ((await groupLag(admin, topics, groupId)) > 0) {
    if (Date.now() > deadline) throw new Error('state builder did not catch up');
    await new Promise((r) => setTimeout(r, 200));
  }
  await admin.disconnect();
}, 180_000);

afterAll(async () => {
  await builder?.stop();
  await h?.close();
});

const post = (path: string, body: unknown, key = bank) => h.call('POST', path, { token: key, body });

function expectItemFor(item: Item, e: ExpectedState, submitted: string) {
  expect(item).toMatchObject({
    status: e.telecomStatus ?? 'NULL',
    verificationStatus: 'VERIFIED',
    occurrenceOfStatusDate: e.statusDate,
    mobileNetwork: operatorByCode(e.operator)?.name ?? e.operator,
    msisdn: submitted,
    errorMessage: null,
  });
}

describe('TIRMS verification against the live state', () => {
  it('answers the documented bulk sample, invalid numbers as FAILED items, with the documented fields and a result link', async () => {
    const numbers = ['0801234578', '28123456789', '09087654321', '07011223344', '0912345670'];
    const res = await post(`${VERIFY}/bulk`, { phoneNumbers: numbers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; data: Item[]; link: string; statusCode: string };
    expect(body.status).toBe('Success');
    expect(body.statusCode).toBe('200');
    expect(body.data.map((i) => Object.keys(i).sort())).toEqual(numbers.map(() => FIELDS));
    expect(body.data.map((i) => i.verificationStatus)).toEqual([
      'FAILED',
      'FAILED',
      'VERIFIED',
      'VERIFIED',
      'FAILED',
    ]);
    expect(body.data.map((i) => i.msisdn)).toEqual(numbers);
    expect(body.data[0]?.errorMessage).toContain('has 10 digits and starts with 0');
    expect(body.data[1]?.errorMessage).toContain('does not start with 0');
    expect(new Set(body.data.map((i) => i.requestId)).size).toBe(1);
    expect(body.data[2]?.verificationTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const later = await h.call('GET', body.link, { token: bank });
    expect(later.status).toBe(200);
    expect(((await later.json()) as { data: Item[] }).data).toEqual(body.data);
    expect((await h.call('GET', body.link, { token: otherBank })).status).toBe(404);

    // A result stored by an earlier build (items whole) still serves within its TTL.
    const requestId = body.link.split('/').pop()!;
    const organisation = JSON.parse(
      (await h.resources.ctx.redis.get(`${h.config.REDIS_KEY_PREFIX}verify:${requestId}`)) ?? '{}',
    ).organisation as string;
    const oldId = '00000000-0000-4000-8000-000000000001';
    await h.resources.ctx.redis.set(
      `${h.config.REDIS_KEY_PREFIX}verify:${oldId}`,
      JSON.stringify({ organisation, items: body.data }),
      'EX',
      60,
    );
    const old = await h.call('GET', `${VERIFY}/bulk/${oldId}`, { token: bank });
    expect(((await old.json()) as { data: Item[] }).data).toEqual(body.data);
  });

  it('gives every sampled number the status, date and network the generator expects, single and bulk', async () => {
    const sample = expected.slice(0, 120);
    for (const e of sample.slice(0, 40)) {
      const res = await post(VERIFY, { phoneNumber: nationalForm(e.msisdn) });
      expect(res.status).toBe(200);
      const { data } = (await res.json()) as { data: Item };
      expectItemFor(data, e, nationalForm(e.msisdn));
    }
    const res = await post(`${VERIFY}/bulk`, { phoneNumbers: sample.map((e) => e.msisdn) });
    const { data } = (await res.json()) as { data: Item[] };
    for (const [i, item] of data.entries()) expectItemFor(item, sample[i]!, sample[i]!.msisdn);
  });

  it('records every verification on the verifications topic with the organisation and number', async () => {
    const e = expected.slice(200).find((x) => x.telecomStatus !== null)!;
    await post(VERIFY, { phoneNumber: e.msisdn });
    await h.resources.ctx.verifications.flush();
    const codec = new EventCodec(createSchemaRegistry(h.config));
    const kafka = createKafka(h.config);
    const topic = topicNames(h.config.TOPIC_PREFIX).verifications;
    const admin = kafka.admin();
    await admin.connect();
    const held = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    await admin.disconnect();
    const all = await Promise.all(
      (await readTopic(kafka, topic, held)).map((m) => codec.decode('verification', m.message.value)),
    );
    const mine = all.find((v) => v.msisdn === e.msisdn && v.channel === 'SINGLE');
    expect(mine).toMatchObject({
      organisation: 'VBANK',
      verificationStatus: 'VERIFIED',
      telecomStatus: e.telecomStatus ?? 'NULL',
      lifecycleStatus: e.lifecycleStatus,
    });
  });

  it.each([
    ['no phoneNumber', VERIFY, {}, 400, 'phoneNumber: is required'],
    ['a numeric phoneNumber', VERIFY, { phoneNumber: 8031234567 }, 400, 'phoneNumber: must be a string'],
    ['no phoneNumbers', `${VERIFY}/bulk`, { numbers: [] }, 400, 'phoneNumbers: is required'],
    [
      '501 numbers',
      `${VERIFY}/bulk`,
      { phoneNumbers: Array.from({ length: 501 }, () => '08031234567') },
      400,
      'at most 500',
    ],
  ])('refuses %s with a 4xx naming the field', async (_name, path, body, status, message) => {
    const res = await post(path, body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { status: string; data: { message: string }; statusCode: string };
    expect(json).toMatchObject({ status: 'Failure', statusCode: String(status) });
    expect(json.data.message).toContain(message);
  });

  it('answers 401 without a key', async () => {
    expect((await h.call('POST', VERIFY, { token: null, body: { phoneNumber: '08031234567' } })).status).toBe(
      401,
    );
  });
});
