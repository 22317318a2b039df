import type { Config } from '@hub/infra';
import { createSchemaRegistry } from '@hub/infra';
import {
  createIngestApp,
  createIngestContext,
  type IngestResources,
  staticApiKeyAuthenticator,
} from '@hub/ingest';
import { EventCodec, type StatusUpdateEvent } from '@hub/schemas';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTopics, testPrincipal as principal, readTopic, testConfig } from '../support/stack.ts';

const BASE = '/api/v1/phone/api';
const KEYS = {
  glo: { key: 'glo-test-key', principal: principal('Globacom', 'OPERATOR', 'GLO') },
  hub: { key: 'hub-test-key', principal: principal('NCC', 'HUB', null) },
  bank: { key: 'bank-test-key', principal: principal('Bank A', 'SERVICE_PROVIDER', null) },
};

let config: Config;
let kafka: Kafka;
let resources: IngestResources;
let app: ReturnType<typeof createIngestApp>;
let codec: EventCodec;

function call(method: string, path: string, body: unknown, key: string | null = KEYS.hub.key, raw = false) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  return app.request(path, { method, headers, body: raw ? (body as string) : JSON.stringify(body) });
}

beforeAll(async () => {
  config = testConfig('ingest');
  kafka = await createTestTopics(config);
  resources = await createIngestContext(config, {
    authenticate: staticApiKeyAuthenticator(Object.values(KEYS)),
  });
  app = createIngestApp(resources.ctx);
  codec = new EventCodec(createSchemaRegistry(config));
});

afterAll(async () => {
  await resources?.close();
});

async function statusEvents(count: number): Promise<StatusUpdateEvent[]> {
  const read = await readTopic(kafka, resources.ctx.topics.statusUpdates, count);
  return Promise.all(read.map((m) => codec.decode('status-update', m.message.value)));
}

describe('TIRMS status updates against real Kafka', () => {
  it('accepts the documented single update and answers with the documented shape', async () => {
    const res = await call(
      'PUT',
      `${BASE}/phone-numbers/status`,
      {
        status: 'BARRED',
        phoneNumber: '07059316841',
        reassignmentDate: '2025-09-15',
        occurrenceOfStatusDate: '2025-09-15',
        remarks: 'Number reassigned to new user',
      },
      KEYS.glo.key,
    );
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      status: 'Success',
      data: {
        phoneNumber: '07059316841',
        status: 'BARRED',
        updateTimestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
        remarks: 'Number reassigned to new user',
      },
      statusCode: '200',
    });
  });

  it('accepts the documented bulk sample and the bulk upload sample with a report link', async () => {
    const bulk = await call('PUT', `${BASE}/phone-numbers/status/bulk`, [
      {
        status: 'CHURNED',
        phoneNumber: '09012345678',
        reassignmentDate: '2025-09-15',
        occurrenceOfStatusDate: '2025-09-15',
        remarks: 'Number reassigned to new user',
      },
      {
        status: 'SWAPPED',
        phoneNumber: '09098765432',
        reassignmentDate: '2025-09-02',
        occurrenceOfStatusDate: '2025-09-06',
        remarks: 'SIM card replaced due to damage',
      },
    ]);
    expect(bulk.status).toBe(202);
    const bulkBody = await bulk.json();
    expect(bulkBody).toEqual({
      status: 'Success',
      data: { message: expect.stringContaining('2 of 2'), link: expect.any(String) },
      statusCode: '202',
    });

    const upload = await call('POST', `${BASE}/phone-numbers/upload/bulk`, {
      phoneNumbers: [
        {
          phoneNumber: '08012345678',
          reassignmentDate: '2025-06-15',
          occurrenceOfStatusDate: '2025-06-01',
          status: 'REASSIGNED',
        },
        {
          phoneNumber: '08123456789',
          reassignmentDate: '2025-07-10',
          occurrenceOfStatusDate: '2025-07-01',
          status: 'SWAPPED',
        },
        {
          phoneNumber: '09098765432',
          reassignmentDate: '2025-08-20',
          occurrenceOfStatusDate: '2025-08-10',
          status: 'CHURNED',
        },
      ],
    });
    expect(upload.status).toBe(202);
    const uploadBody = (await upload.json()) as { data: { link: string } };
    const report = await call('GET', uploadBody.data.link, undefined);
    expect(report.status).toBe(200);
    expect(((await report.json()) as { data: { accepted: number; rejected: number } }).data).toMatchObject({
      accepted: 3,
      rejected: 0,
    });

    const events = await statusEvents(6);
    const numbers = events.map((e) => e.msisdn).sort();
    expect(numbers).toEqual([
      '2347059316841',
      '2348012345678',
      '2348123456789',
      '2349012345678',
      '2349098765432',
      '2349098765432',
    ]);
    const barred = events.find((e) => e.msisdn === '2347059316841');
    expect(barred).toMatchObject({
      status: 'BLACKLISTED',
      operator: 'GLO',
      occurrenceDate: '2025-09-15',
      source: 'HTTP',
    });
  });

  it('reports each rejected bulk record by index, number, field and reason while accepting the rest', async () => {
    const res = await call(
      'PUT',
      `${BASE}/phone-numbers/status/bulk`,
      [
        { status: 'NORMAL', phoneNumber: '07051234567', occurrenceOfStatusDate: '2025-01-02' },
        { status: 'SWAPPED', phoneNumber: '07051234568', occurrenceOfStatusDate: '2025-01-02' },
        { status: 'NORMAL', phoneNumber: '28123456789', occurrenceOfStatusDate: '2025-01-02' },
        { status: 'NORMAL', phoneNumber: '08031234567', occurrenceOfStatusDate: '2025-01-02' },
      ],
      KEYS.glo.key,
    );
    expect(res.status).toBe(202);
    const { data } = (await res.json()) as { data: { message: string; link: string } };
    expect(data.message).toContain('1 of 4');
    const report = (await (await call('GET', data.link, undefined, KEYS.glo.key)).json()) as {
      data: { rejections: unknown[] };
    };
    expect(report.data.rejections).toEqual([
      {
        index: 1,
        phoneNumber: '07051234568',
        field: 'reassignmentDate',
        reason: 'is required when status is SWAPPED',
      },
      {
        index: 2,
        phoneNumber: '28123456789',
        field: 'phoneNumber',
        reason: expect.stringContaining('does not start with 0'),
      },
      {
        index: 3,
        phoneNumber: '08031234567',
        field: 'phoneNumber',
        reason: expect.stringContaining('allocated to GLO'),
      },
    ]);
    // Another organisation cannot read the report.
    expect((await call('GET', data.link, undefined, KEYS.bank.key)).status).toBe(404);
  });

  const bad: [string, string, string, unknown, number, string][] = [
    ['malformed JSON', 'PUT', '/phone-numbers/status', '{"status": "NORMAL",', 400, 'not valid JSON'],
    [
      'wrong type',
      'PUT',
      '/phone-numbers/status',
      { status: 'NORMAL', phoneNumber: 7059316841, occurrenceOfStatusDate: '2025-01-01' },
      400,
      'phoneNumber: must be a string',
    ],
    [
      'bad date',
      'PUT',
      '/phone-numbers/status',
      { status: 'NORMAL', phoneNumber: '07059316841', occurrenceOfStatusDate: '2025-02-30' },
      400,
      'occurrenceOfStatusDate',
    ],
    [
      'future date',
      'PUT',
      '/phone-numbers/status',
      { status: 'NORMAL', phoneNumber: '07059316841', occurrenceOfStatusDate: '2999-01-01' },
      400,
      'is in the future',
    ],
    [
      'missing status',
      'PUT',
      '/phone-numbers/status',
      { phoneNumber: '07059316841', occurrenceOfStatusDate: '2025-01-01' },
      400,
      'status: is required',
    ],
    [
      'unknown status',
      'PUT',
      '/phone-numbers/status',
      { status: 'LOST', phoneNumber: '07059316841', occurrenceOfStatusDate: '2025-01-01' },
      400,
      'status: must be one of',
    ],
    [
      'invalid number',
      'PUT',
      '/phone-numbers/status',
      { status: 'NORMAL', phoneNumber: '0801234578', occurrenceOfStatusDate: '2025-01-01' },
      400,
      'phoneNumber',
    ],
    [
      'bulk not an array',
      'PUT',
      '/phone-numbers/status/bulk',
      { status: 'NORMAL' },
      400,
      'must be a JSON array',
    ],
    ['empty bulk', 'PUT', '/phone-numbers/status/bulk', [], 400, 'at least one record'],
    [
      'upload without phoneNumbers',
      'POST',
      '/phone-numbers/upload/bulk',
      { numbers: [] },
      400,
      'phoneNumbers',
    ],
    [
      'oversize bulk',
      'PUT',
      '/phone-numbers/status/bulk',
      Array.from({ length: 100_001 }, () => ({})),
      413,
      'at most 100000',
    ],
    [
      'all records bad',
      'PUT',
      '/phone-numbers/status/bulk',
      [{ status: 'NORMAL' }],
      400,
      'body[0].phoneNumber: is required',
    ],
  ];
  it.each(bad)(
    'rejects %s with a 4xx naming the problem',
    async (_name, method, path, body, status, message) => {
      const res = await call(
        method,
        `${BASE}${path}`,
        typeof body === 'string' ? body : body,
        KEYS.hub.key,
        typeof body === 'string',
      );
      expect(res.status).toBe(status);
      const json = (await res.json()) as { status: string; data: { message: string }; statusCode: string };
      expect(json.status).toBe('Failure');
      expect(json.statusCode).toBe(String(status));
      expect(json.data.message).toContain(message);
    },
  );

  it('refuses missing and unknown keys with 401 and service providers with 403', async () => {
    const body = { status: 'NORMAL', phoneNumber: '07059316841', occurrenceOfStatusDate: '2025-01-01' };
    expect((await call('PUT', `${BASE}/phone-numbers/status`, body, null)).status).toBe(401);
    expect((await call('PUT', `${BASE}/phone-numbers/status`, body, 'nope')).status).toBe(401);
    expect((await call('PUT', `${BASE}/phone-numbers/status`, body, KEYS.bank.key)).status).toBe(403);
  });
});
