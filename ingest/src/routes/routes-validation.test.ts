import { topicNames } from '@hub/infra';
import { checkStatusUpdate, MAX_BULK_STATUS_RECORDS } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { createIngestApp } from '../app.ts';
import type { IngestContext } from '../context.ts';
import type { Principal } from '../principal.ts';
import { MAX_FEED_EVENTS } from './identity-feeds.ts';

/**
 * The TIRMS status routes and the identity-feed route validate through their zod schemas (one
 * validation path, the same schemas as the document) and still answer as before: the TIRMS or
 * Reconix envelope, every problem named, 413 for too many records, 415 for another media type.
 * Nothing here reaches Kafka: every request is refused before a record is published.
 */

const hub: Principal = { organisation: 'NCC', type: 'HUB', operatorCode: null, credentialId: 'hub-key' };
const nimc: Principal = {
  organisation: 'NIMC',
  type: 'IDENTITY_SOURCE',
  operatorCode: null,
  credentialId: 'nimc-key',
};

const ctx = {
  topics: topicNames('routes-validation'),
  publisher: {
    publish: async () => {
      throw new Error('nothing is published by these requests');
    },
  },
  reports: {},
  authenticate: async (header: string | undefined) =>
    header === 'Bearer hub-key' ? hub : header === 'Bearer nimc-key' ? nimc : null,
  audit: { record: () => {} },
  servingOperators: async (msisdns: readonly string[]) => msisdns.map(() => null),
  tokenSecret: 'test-secret-0123456789abcdef',
  maxBulkBodyBytes: 64 * 1024 * 1024,
  now: Date.now,
} as unknown as IngestContext;

const app = createIngestApp(ctx);
const TIRMS = '/api/v1/phone/api/phone-numbers';

const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: 'Bearer hub-key', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

interface TirmsFailure {
  status: string;
  data: { code: string; message: string; errors?: { field: string; message: string }[] };
  statusCode: string;
}

describe('TIRMS status routes', () => {
  it('a single update hears every problem, the cross-field ones too, as a bulk record would', async () => {
    const record = { status: 'SWAPPED', phoneNumber: '0801234', occurrenceOfStatusDate: 5 };
    const res = await send('PUT', `${TIRMS}/status`, record);
    expect(res.status).toBe(400);
    const body = (await res.json()) as TirmsFailure;
    expect(body.status).toBe('Failure');
    expect(body.statusCode).toBe('400');
    expect(body.data.code).toBe('VALIDATION_ERROR');
    const check = checkStatusUpdate(record);
    expect(check.ok).toBe(false);
    expect(body.data.errors).toEqual(check.ok ? [] : check.problems);
    expect(body.data.errors?.map((e) => e.field)).toEqual([
      'occurrenceOfStatusDate',
      'phoneNumber',
      'reassignmentDate',
    ]);
  });

  it('a single update that is not an object is a 400 naming the body', async () => {
    const res = await send('PUT', `${TIRMS}/status`, [1]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as TirmsFailure;
    expect(body.data.errors).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
  });

  it('keeps the body limit (413) and the media type (415) of the single route', async () => {
    const big = await send('PUT', `${TIRMS}/status`, { remarks: 'x'.repeat(17 * 1024) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as TirmsFailure).data.code).toBe('PAYLOAD_TOO_LARGE');
    const text = await send('PUT', `${TIRMS}/status`, 'status=NORMAL', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(((await text.json()) as TirmsFailure).data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('more than 100,000 bulk records is a 413, as before', async () => {
    const records = Array.from({ length: MAX_BULK_STATUS_RECORDS + 1 }, () => ({}));
    for (const [method, path, body, field] of [
      ['PUT', `${TIRMS}/status/bulk`, records, 'body'],
      ['POST', `${TIRMS}/upload/bulk`, { phoneNumbers: records }, 'phoneNumbers'],
    ] as const) {
      const res = await send(method, path, body);
      expect(res.status).toBe(413);
      const answer = (await res.json()) as TirmsFailure;
      expect(answer).toMatchObject({ status: 'Failure', statusCode: '413' });
      expect(answer.data).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: `${field}: has ${MAX_BULK_STATUS_RECORDS + 1} records; at most ${MAX_BULK_STATUS_RECORDS} are accepted per request`,
      });
    }
  });

  it('the shape of a bulk body is the request’s 400; the upload names phoneNumbers', async () => {
    const notArray = (await (
      await send('PUT', `${TIRMS}/status/bulk`, { status: 'NORMAL' })
    ).json()) as TirmsFailure;
    expect(notArray.data.message).toBe('body: must be a JSON array of status update records');
    const empty = (await (await send('PUT', `${TIRMS}/status/bulk`, [])).json()) as TirmsFailure;
    expect(empty.data.message).toBe('body: must contain at least one record');
    const missing = await send('POST', `${TIRMS}/upload/bulk`, { numbers: [] });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as TirmsFailure).data.errors).toEqual([
      { field: 'phoneNumbers', message: 'is required' },
    ]);
    const wrong = (await (
      await send('POST', `${TIRMS}/upload/bulk`, { phoneNumbers: 'x' })
    ).json()) as TirmsFailure;
    expect(wrong.data.errors).toEqual([
      { field: 'phoneNumbers', message: 'is required and must be an array of records' },
    ]);
  });

  it('an Idempotency-Key of the wrong form is a 400 naming the header as clients write it', async () => {
    const res = await send('PUT', `${TIRMS}/status/bulk`, [{}], { 'idempotency-key': 'not a key!' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as TirmsFailure).data.errors).toEqual([
      { field: 'Idempotency-Key', message: 'must be 1 to 128 letters, digits, _, -, . or :' },
    ]);
  });

  it('documents the bulk bodies from the schemas that validate them', () => {
    const doc = app.getOpenAPIDocument({ openapi: '3.0.3', info: { title: 'x', version: '1' } });
    const schemas = doc.components?.schemas ?? {};
    expect(schemas.BulkStatusUpdateRequest).toMatchObject({
      type: 'array',
      items: { $ref: '#/components/schemas/StatusUpdateRequest' },
      minItems: 1,
      maxItems: MAX_BULK_STATUS_RECORDS,
    });
    expect(schemas.IdentityFeedRequest).toMatchObject({
      properties: { events: { items: { $ref: '#/components/schemas/IdentityFeedRecord' } } },
    });
    expect(schemas.IdentityFeedRecord).toBeDefined();
    const single = (doc.paths[`${TIRMS}/status`] as { put: { requestBody: unknown } }).put.requestBody;
    expect(single).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/StatusUpdateRequest' } } },
    });
  });
});

describe('identity feed route', () => {
  const feed = (body: unknown) =>
    send('POST', '/api/v1/webhooks/receive', body, { authorization: '', 'x-api-key': 'nimc-key' });

  it('names every problem of the request in the Reconix envelope', async () => {
    const res = await feed({ source: 'NIMX', events: 'x' });
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

  it(`more than ${MAX_FEED_EVENTS} events is a 413`, async () => {
    const events = Array.from({ length: MAX_FEED_EVENTS + 1 }, () => ({}));
    const res = await feed({ source: 'NIMC', events });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      detail: `events: has ${MAX_FEED_EVENTS + 1} events; at most ${MAX_FEED_EVENTS} per request`,
    });
  });

  it('asks for the key before it reads the body', async () => {
    const res = await send('POST', '/api/v1/webhooks/receive', 'not json', { authorization: '' });
    expect(res.status).toBe(401);
  });
});
