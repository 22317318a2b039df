import type { Config } from '@hub/infra';
import {
  createIngestApp,
  createIngestContext,
  type IngestResources,
  staticApiKeyAuthenticator,
} from '@hub/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTopics, testPrincipal as principal, testConfig } from '../support/stack.ts';

/**
 * What ingest acknowledges, the processors apply: a record outside the validation contract
 * (schemas/src/contract.ts) is refused at the door with a 400 naming the field, instead of a 200
 * followed by a silent dead letter (a TIRMS update dated 1950-03-01 used to get exactly that).
 */

const BASE = '/api/v1/phone/api/phone-numbers';
const KEYS = [
  { key: 'hub-key', principal: principal('NCC', 'HUB', null) },
  { key: 'nimc-key', principal: principal('NIMC', 'IDENTITY_SOURCE') },
];
const RANGE = "'1950-03-01' is outside the supported range 1990-01-01..2105-12-31";

let config: Config;
let resources: IngestResources;
let app: ReturnType<typeof createIngestApp>;

const json = (method: string, path: string, body: unknown, key: string) =>
  app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  config = testConfig('contract');
  await createTestTopics(config);
  resources = await createIngestContext(config, { authenticate: staticApiKeyAuthenticator(KEYS) });
  app = createIngestApp(resources.ctx);
});

afterAll(async () => {
  await resources?.close();
});

describe('ingest refuses what the state machine would not apply', () => {
  it('answers a single TIRMS update dated 1950-03-01 with a 400 naming occurrenceOfStatusDate', async () => {
    const res = await json(
      'PUT',
      `${BASE}/status`,
      { status: 'NORMAL', phoneNumber: '08031234567', occurrenceOfStatusDate: '1950-03-01' },
      'hub-key',
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      data: { code: string; errors: { field: string; message: string }[] };
    };
    expect(body.data.code).toBe('VALIDATION_ERROR');
    expect(body.data.errors).toEqual([{ field: 'occurrenceOfStatusDate', message: RANGE }]);
  });

  it('reports a 1950 record of a bulk update by index and field, and accepts the rest', async () => {
    const res = await json(
      'PUT',
      `${BASE}/status/bulk`,
      [
        { status: 'NORMAL', phoneNumber: '08031234567', occurrenceOfStatusDate: '1950-03-01' },
        { status: 'NORMAL', phoneNumber: '08031234568', occurrenceOfStatusDate: '2025-03-01' },
      ],
      'hub-key',
    );
    const text = await res.text();
    expect(res.status, text).toBeLessThan(500);
    expect(text).toContain('1 of 2 records published, 1 rejected');
  });

  it('refuses an identity-feed event dated 1950 with the field named, publishing the valid one', async () => {
    const res = await json(
      'POST',
      '/api/v1/webhooks/receive',
      {
        source: 'NIMC',
        events: [
          { msisdn: '08031234567', action: 'LINK', nin: '12345678901', date: '1950-03-01' },
          { msisdn: '08031234567', action: 'LINK', nin: '12345678902', date: '2024-03-01' },
        ],
      },
      'nimc-key',
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: 1,
      rejected: 1,
      rejections: [{ index: 0, field: 'date', reason: RANGE }],
    });
  });
});
