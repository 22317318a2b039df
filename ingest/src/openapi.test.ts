import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import {
  checkedString,
  checkItem,
  createSurfaceApp,
  fieldErrorsOf,
  fieldPath,
  jsonBody,
  optionalParam,
  ReconixErrorBody,
  reconixErrors,
  TirmsErrorBody,
  tirmsErrors,
} from './openapi.ts';

const Item = z.object({ msisdn: z.string().regex(/^\d+$/), count: z.number().int().min(1) });

function app() {
  const a = createSurfaceApp();
  for (const path of ['/api/v1/things', '/api/v1/phone/api/things']) {
    a.openapi(
      createRoute({
        method: 'post',
        path,
        middleware: [jsonBody(1024)],
        request: {
          body: {
            content: { 'application/json': { schema: z.object({ items: z.array(Item).max(2) }) } },
            required: true,
          },
          query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }),
        },
        responses: { 200: { description: 'ok' }, ...reconixErrors([400]) },
      }),
      (c) => c.json({ n: c.req.valid('json').items.length, limit: c.req.valid('query').limit }, 200),
    );
  }
  return a;
}

const post = (path: string, body: string, type = 'application/json') =>
  app().request(path, { method: 'POST', body, headers: { 'content-type': type } });

describe('the one validation path', () => {
  it('passes a valid body and query to the handler', async () => {
    const res = await post('/api/v1/things?limit=7', JSON.stringify({ items: [{ msisdn: '1', count: 1 }] }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n: 1, limit: 7 });
  });

  it('names every failing field with its path, in the Reconix envelope', async () => {
    const res = await post(
      '/api/v1/things',
      JSON.stringify({ items: [{ msisdn: '1', count: 1 }, { msisdn: 'x' }] }),
    );
    expect(res.status).toBe(400);
    const body = ReconixErrorBody.parse(await res.json());
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.errors?.map((e) => e.field)).toEqual(['items[1].msisdn', 'items[1].count']);
    expect(body.errors?.[1]?.message).toBe('is required');
    expect(body.detail).toContain('items[1].msisdn');
  });

  it('answers in the TIRMS envelope under /api/v1/phone/api', async () => {
    const res = await post('/api/v1/phone/api/things', JSON.stringify({ items: 'no' }));
    expect(res.status).toBe(400);
    const body = TirmsErrorBody.parse(await res.json());
    expect(body.data.errors?.[0]?.field).toBe('items');
  });

  it('names a bad query parameter', async () => {
    const res = await post('/api/v1/things?limit=500', JSON.stringify({ items: [] }));
    expect(res.status).toBe(400);
    expect(ReconixErrorBody.parse(await res.json()).errors?.[0]?.field).toBe('limit');
  });

  it('refuses malformed JSON without quoting the body, a wrong type, and an oversized body', async () => {
    const bad = await post('/api/v1/things', '{"items": [SECRET-12345678901');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).not.toContain('12345678901');
    expect((await post('/api/v1/things', '{}', 'text/plain')).status).toBe(415);
    expect((await post('/api/v1/things', JSON.stringify({ items: [], pad: 'x'.repeat(2000) }))).status).toBe(
      413,
    );
  });

  it('documents the error bodies with the runtime code enums', () => {
    expect(Object.keys(tirmsErrors([400, 503]))).toEqual(['400', '503']);
    const doc = app().getOpenAPIDocument({ openapi: '3.0.3', info: { title: 't', version: '1' } });
    const schema = doc.components?.schemas?.ReconixError as { properties: { code: { enum: string[] } } };
    expect(schema.properties.code.enum).toContain('VALIDATION_ERROR');
  });
});

describe('fieldPath', () => {
  it('writes indexes in brackets', () => {
    expect(fieldPath(['items', 3, 'msisdn'])).toBe('items[3].msisdn');
    expect(fieldPath([])).toBe('');
  });
});

describe('field errors', () => {
  const Body = z.object({ n: z.number(), s: z.string() });

  it('says "is required" only for a missing field, not for one of the wrong type', () => {
    const input = { s: 5 };
    const r = Body.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) {
      const errors = fieldErrorsOf(r.error.issues, 'json', input);
      expect(errors[0]).toEqual({ field: 'n', message: 'is required' });
      expect(errors[1]?.field).toBe('s');
      expect(errors[1]?.message).not.toBe('is required');
    }
  });

  it('checks one item of a request, naming fields from where the item sits', () => {
    expect(checkItem(Body, { n: 1, s: 'x' }, ['items', 0])).toEqual({ ok: true, value: { n: 1, s: 'x' } });
    const bad = checkItem(Body, { n: 'x' }, ['items', 3]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.map((e) => e.field)).toEqual(['items[3].n', 'items[3].s']);
    const scalar = checkItem(Body, 7, ['items', 4]);
    expect(!scalar.ok && scalar.errors.map((e) => e.field)).toEqual(['items[4]']);
  });
});

describe('checkedString', () => {
  const Even = checkedString((input) =>
    typeof input === 'string' && input.length % 2 === 0
      ? { ok: true, value: input.length }
      : {
          ok: false,
          reason: typeof input === 'number' ? 'a number loses zeros' : 'must have an even length',
        },
  );

  it("gives the handler the check's value and the client the check's reason, for any input type", () => {
    expect(Even.parse('ab')).toBe(2);
    expect(Even.safeParse('abc').error?.issues[0]?.message).toBe('must have an even length');
    expect(Even.safeParse(12).error?.issues[0]?.message).toBe('a number loses zeros');
  });

  it('treats an empty optional query parameter as absent', () => {
    const Query = z.object({ from: optionalParam(Even) });
    expect(Query.parse({ from: '' })).toEqual({});
    expect(Query.parse({ from: 'abcd' })).toEqual({ from: 4 });
  });
});
