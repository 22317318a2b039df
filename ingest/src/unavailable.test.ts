import { ProjectionUnavailableError } from '@hub/state/read';
import { Hono } from 'hono';
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaUnavailableError } from './publisher.ts';
import {
  clickhouseUnavailable,
  DependencyUnavailableError,
  errorResponse,
  unavailableDetail,
} from './unavailable.ts';

/** Messages as ClickHouse 18.16 and the Node client give them (captured from the local server). */
const SYNTAX = new Error(
  'Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position 1 (line 1, col 1): SELEC 1',
);
const UNKNOWN_TABLE = new Error(
  "Code: 60, e.displayText() = DB::Exception: Table test.nin_linkage_events_v1 doesn't exist., e.what() = DB::Exception",
);
const TOO_MANY_QUERIES = new Error(
  'Code: 202, e.displayText() = DB::Exception: Too many simultaneous queries. Maximum: 100, e.what() = DB::Exception',
);
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' });

describe('what counts as unavailable', () => {
  it('a ClickHouse SQL or code error is not: it is a bug, answered 500', () => {
    expect(clickhouseUnavailable(SYNTAX)).toBe(false);
    expect(clickhouseUnavailable(UNKNOWN_TABLE)).toBe(false);
    expect(unavailableDetail(SYNTAX)).toBeNull();
    expect(unavailableDetail(UNKNOWN_TABLE)).toBeNull();
  });

  it('ClickHouse refusing the connection, timing out or shedding load is', () => {
    expect(clickhouseUnavailable(refused)).toBe(true);
    expect(clickhouseUnavailable(new Error('Timeout error.'))).toBe(true);
    expect(clickhouseUnavailable(TOO_MANY_QUERIES)).toBe(true);
  });

  it('Kafka unreachable or timing out is; Kafka refusing a record as invalid is not', () => {
    const connection = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092');
    expect(unavailableDetail(connection)).toMatch(/event store/);
    expect(
      unavailableDetail(new KafkaJSNumberOfRetriesExceeded(connection, { retryCount: 5, retryTime: 1 })),
    ).toMatch(/event store/);
    expect(
      unavailableDetail(new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out')),
    ).toMatch(/event store/);
    // What a producer's send throws once its retries are spent on a broker that refuses connections.
    expect(unavailableDetail(new KafkaJSNonRetriableError(connection))).toMatch(/event store/);
    expect(unavailableDetail(new KafkaJSError('The producer is disconnected', { retriable: true }))).toMatch(
      /event store/,
    );
    const tooLarge = new KafkaJSProtocolError({
      message: 'The request included a message larger than the max message size the server will accept',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    } as unknown as string);
    expect(unavailableDetail(tooLarge)).toBeNull();
    expect(unavailableDetail(new KafkaUnavailableError('Kafka did not acknowledge within 10000 ms'))).toMatch(
      /event store/,
    );
  });

  it('a state rebuild and a Redis outage are; a TypeError is not', () => {
    expect(unavailableDetail(new ProjectionUnavailableError('rebuilding'))).toMatch(/rebuilt/);
    expect(unavailableDetail(new Error('Connection is closed.'))).toMatch(/live state store/);
    expect(unavailableDetail(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeNull();
  });
});

describe('errorResponse', () => {
  const app = new Hono<{ Variables: { requestId: string } }>();
  app.use('*', async (c, next) => {
    c.set('requestId', 'req-42');
    await next();
  });
  app.get('/api/v1/identity/boom', () => {
    throw SYNTAX;
  });
  app.get('/api/v1/phone/api/down', () => {
    throw new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');
  });
  app.get('/api/v1/accounts-behind', () => {
    throw new DependencyUnavailableError('the accounts store', 'projection behind', {
      retryAfterSeconds: 30,
      clientDetail: 'credentials of organisation BANKA cannot be checked right now; retry later',
    });
  });
  app.onError((err, c) => errorResponse(c, err));

  it("uses a dependency's own Retry-After and wording when it has them", async () => {
    const res = await app.request('/api/v1/accounts-behind');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      detail: 'credentials of organisation BANKA cannot be checked right now; retry later',
    });
  });

  it('answers a code error with 500 and the request id, never the SQL', async () => {
    const res = await app.request('/api/v1/identity/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    const body = (await res.json()) as { code: string; detail: string };
    expect(body).toEqual({ code: 'INTERNAL_ERROR', detail: 'internal error; quote request id req-42' });
  });

  it('answers an unavailable dependency with 503 and Retry-After, in the surface envelope', async () => {
    const res = await app.request('/api/v1/phone/api/down');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({
      status: 'Failure',
      data: { code: 'SERVICE_UNAVAILABLE', message: 'the event store is unavailable; retry shortly' },
    });
  });
});
