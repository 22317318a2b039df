import { createLogger } from '@hub/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../query-api/src/app.ts';
import type { ApiApp } from '../../query-api/src/context.ts';
import { createHarness, type Harness } from '../security/harness.ts';

/**
 * The access log: one info line per API request with the method, the route pattern, the status
 * and the duration, the request id and the service; never the path, the query or the body, which
 * carry phone numbers and identifiers.
 */

const NUMBER = '08031234567';
const BODY_NUMBER = '08039876543';

interface Line {
  level: string;
  time: string;
  service: string;
  requestId?: string;
  msg: string;
  method?: string;
  route?: string;
  status?: number;
  durationMs?: number;
}

let h: Harness;
let app: ApiApp;
let key: string;
const lines: string[] = [];

beforeAll(async () => {
  h = await createHarness('access_log', {}, { history: false });
  key = await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  const logger = createLogger({ LOG_LEVEL: 'info' }, 'query-api', {
    write: (line: string) => void lines.push(line),
  });
  app = createApiApp({ ...h.resources.ctx, logger }, []);
});

afterAll(async () => {
  await h?.close();
});

const accessLines = () =>
  lines.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request' && l.route !== undefined);

describe('the access log', () => {
  it('writes one line per request with the route pattern, never the number in the path or query', async () => {
    lines.length = 0;
    const res = await app.request(
      `/api/v1/phone/api/phone-numbers/bulk-reports/${NUMBER}?phoneNumber=${NUMBER}`,
      { headers: { authorization: `Bearer ${key}`, 'x-request-id': 'access-log-1' } },
    );
    expect(res.status).toBe(404);
    const access = accessLines();
    expect(access).toHaveLength(1);
    const [line] = access;
    expect(line).toMatchObject({
      level: 'info',
      service: 'query-api',
      requestId: 'access-log-1',
      method: 'GET',
      route: '/api/v1/phone/api/phone-numbers/bulk-reports/:batchId',
      status: 404,
    });
    expect(line?.durationMs).toBeTypeOf('number');
    expect(Number.isNaN(Date.parse(line?.time ?? ''))).toBe(false);
    expect(lines.join('\n')).not.toContain(NUMBER);
  });

  it('keeps the body out of the log, also when the request is refused', async () => {
    lines.length = 0;
    const res = await app.request('/api/v1/phone/api/phone-numbers/status', {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'LOST',
        phoneNumber: BODY_NUMBER,
        occurrenceOfStatusDate: '2025-01-01',
      }),
    });
    expect(res.status).toBe(400);
    const access = accessLines();
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      method: 'PUT',
      route: '/api/v1/phone/api/phone-numbers/status',
      status: 400,
    });
    expect(lines.join('\n')).not.toContain(BODY_NUMBER);
  });

  it('logs an unmatched path by a pattern, not by the path', async () => {
    lines.length = 0;
    expect((await app.request(`/api/v1/nowhere/${NUMBER}`)).status).toBe(404);
    const access = accessLines();
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: 'GET', status: 404 });
    // No route matched: a middleware's pattern stands in, never the path that was asked for.
    expect(access[0]?.route).not.toContain('nowhere');
    expect(lines.join('\n')).not.toContain(NUMBER);
  });
});
