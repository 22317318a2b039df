import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem, readJsonBody } from './request-body.ts';

const app = new Hono().post('/', async (c) => {
  const body = await readJsonBody(c, 1024);
  return body.ok ? c.json({ ok: true }) : c.json({ code: body.code, message: body.message }, 400);
});

const post = async (raw: string) => {
  const res = await app.request('/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw,
  });
  return (await res.json()) as { code: string; message: string };
};

describe('malformed JSON bodies', () => {
  it('never quote the body back: a form-encoded NIN sent as JSON stays out of the error', async () => {
    const answer = await post('nin=12345678901&bvn=22123456789');
    expect(answer.code).toBe('MALFORMED_JSON');
    expect(answer.message).toMatch(/^request body is not valid JSON/);
    expect(answer.message).not.toContain('12345678901');
    expect(answer.message).not.toContain('22123456789');
    expect(answer.message).not.toContain('nin=');
  });

  it('say where the problem is, by line and column', async () => {
    const answer = await post('{\n  "nin": "12345678901" "bvn": 1\n}');
    expect(answer.message).toBe(
      "request body is not valid JSON at line 2, column 24: expected ',' or '}' after property value",
    );
    expect(answer.message).not.toContain('12345678901');
  });

  it('name a body that stops early without quoting it', () => {
    let err: unknown;
    try {
      JSON.parse('{"nin":"1234567');
    } catch (e) {
      err = e;
    }
    expect(jsonSyntaxProblem(err, '{"nin":"1234567')).toBe(
      'is not valid JSON at line 1, column 16: unterminated string',
    );
    expect(jsonSyntaxProblem(new SyntaxError('Unexpected end of JSON input'), '[')).toBe(
      'is not valid JSON: it ends before the value is complete',
    );
  });
});
