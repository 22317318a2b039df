import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import {
  checkedRecord,
  createSurfaceApp,
  fieldErrorsOf,
  headerName,
  itemsOf,
  jsonBody,
  optionalJsonBody,
  reconixErrors,
} from './openapi.ts';

describe('headerName and header fields', () => {
  it('writes a header as clients do', () => {
    expect(headerName('idempotency-key')).toBe('Idempotency-Key');
    expect(headerName('x-refresh-token')).toBe('X-Refresh-Token');
  });

  it('names a failing header field that way, and leaves other targets alone', () => {
    const issue = { code: 'custom', path: ['idempotency-key'], message: 'bad' };
    expect(fieldErrorsOf([issue], 'header')).toEqual([{ field: 'Idempotency-Key', message: 'bad' }]);
    expect(fieldErrorsOf([issue], 'json')).toEqual([{ field: 'idempotency-key', message: 'bad' }]);
  });
});

describe('checkedRecord', () => {
  // A check that, like checkStatusUpdate, names problems zod alone would skip.
  const Schema = z.object({ a: z.string(), b: z.string().optional() });
  const check = (input: unknown) => {
    if (typeof input !== 'object' || input === null)
      return { ok: false as const, problems: [{ field: '', message: 'must be a JSON object' }] };
    const r = input as Record<string, unknown>;
    const problems = [];
    if (typeof r.a !== 'string') problems.push({ field: 'a', message: 'must be a string' });
    if (r.b === undefined) problems.push({ field: 'b', message: 'is required with a' });
    return problems.length > 0
      ? { ok: false as const, problems }
      : { ok: true as const, value: { normalised: `${r.a}/${r.b}` } };
  };
  const Checked = checkedRecord(Schema, check);

  it("reports the check's problems, every one, and hands on the check's value", () => {
    const bad = Checked.safeParse({ a: 1 });
    expect(bad.success).toBe(false);
    expect(fieldErrorsOf(bad.error?.issues ?? [], 'json')).toEqual([
      { field: 'a', message: 'must be a string' },
      { field: 'b', message: 'is required with a' },
    ]);
    expect(fieldErrorsOf(Checked.safeParse(7).error?.issues ?? [], 'json')).toEqual([
      { field: 'body', message: 'must be a JSON object' },
    ]);
    expect(Checked.parse({ a: 'x', b: 'y' })).toEqual({ normalised: 'x/y' });
  });
});

describe('itemsOf with tooManyIsTooLarge, and optionalJsonBody', () => {
  const app = createSurfaceApp();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/things',
      middleware: [jsonBody(1024)],
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({
                items: itemsOf(
                  { type: 'string' },
                  {
                    min: 1,
                    max: 2,
                    tooFew: 'must hold one',
                    tooMany: (n) => `has ${n}; at most 2`,
                    tooManyIsTooLarge: true,
                  },
                ),
              }),
            },
          },
          required: true,
        },
      },
      responses: { 200: { description: 'ok' }, ...reconixErrors([400, 413]) },
    }),
    (c) => c.json({ n: c.req.valid('json').items.length }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/v1/optional',
      middleware: [optionalJsonBody(1024)],
      request: {
        body: {
          content: { 'application/json': { schema: z.object({ n: z.number().optional() }) } },
          required: false,
        },
      },
      responses: { 200: { description: 'ok' }, ...reconixErrors([400, 415]) },
    }),
    (c) => c.json({ n: c.req.valid('json').n ?? 'default' }, 200),
  );
  const post = (path: string, body?: string, headers: Record<string, string> = {}) =>
    app.request(path, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
  const json = { 'content-type': 'application/json' };

  it('answers more than max items with a 413 in the surface envelope, fewer than min with a 400', async () => {
    const many = await post('/api/v1/things', JSON.stringify({ items: ['a', 'b', 'c'] }), json);
    expect(many.status).toBe(413);
    expect(await many.json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', detail: 'items: has 3; at most 2' });
    const none = await post('/api/v1/things', JSON.stringify({ items: [] }), json);
    expect(none.status).toBe(400);
  });

  it('gives a route without a body {} and reads one that is sent', async () => {
    expect(await (await post('/api/v1/optional')).json()).toEqual({ n: 'default' });
    expect(await (await post('/api/v1/optional', JSON.stringify({ n: 3 }), json)).json()).toEqual({ n: 3 });
    expect((await post('/api/v1/optional', JSON.stringify({ n: 'x' }), json)).status).toBe(400);
    expect((await post('/api/v1/optional', 'n=3', { 'content-type': 'text/plain' })).status).toBe(415);
  });
});
