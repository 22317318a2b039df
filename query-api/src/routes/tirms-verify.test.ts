import { fieldErrorsOf } from '@hub/ingest';
import { MAX_BULK_VERIFY_NUMBERS } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  BulkVerifyRequest,
  parseBulkVerifyRequest,
  parseVerifyRequest,
  VerifyRequest,
} from './tirms-verify.ts';

/** What the one validation path (the route's zod schema through the hook) would answer. */
function viaSchema(schema: z.ZodType, body: unknown) {
  const result = schema.safeParse(body);
  return result.success
    ? { ok: true as const, value: result.data }
    : { ok: false as const, errors: fieldErrorsOf(result.error.issues, 'json', body) };
}

/** A small deterministic generator of JSON values, biased towards the shapes the parsers look at. */
function randomValues(seed: number, count: number): unknown[] {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const scalar = (): unknown => {
    const pick = Math.floor(next() * 8);
    return [null, true, 0, 8031234567, '', '08031234567', '+2348031234567', 'abc'][pick];
  };
  const value = (depth: number): unknown => {
    const pick = next();
    if (depth > 2 || pick < 0.4) return scalar();
    if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (const key of ['phoneNumber', 'phoneNumbers', 'customer', 'other'])
      if (next() < 0.5) out[key] = value(depth + 1);
    return out;
  };
  return Array.from({ length: count }, () => value(0));
}

const many = (n: number) => Array.from({ length: n }, (_, i) => `0803${String(i).padStart(7, '0')}`);

describe('the single-verify hand parser', () => {
  const table: unknown[] = [
    { phoneNumber: '08031234567' },
    { phoneNumber: '123' },
    { phoneNumber: '' },
    { phoneNumber: 8031234567 },
    { phoneNumber: null },
    { phoneNumber: ['08031234567'] },
    { phoneNumber: '08031234567', extra: 1 },
    { phoneNumber: '08031234567', customer: 'cust-00042' },
    { phoneNumber: '08031234567', customer: 42 },
    { phoneNumber: '08031234567', customer: '  c1  ' },
    { phoneNumber: '08031234567', customer: '' },
    { phoneNumber: '08031234567', customer: 'has space' },
    { phoneNumber: '08031234567', customer: 'x'.repeat(65) },
    { phoneNumber: null, customer: null },
    {},
    [],
    null,
    '08031234567',
    42,
  ];

  it.each(table)('agrees with VerifyRequest on %j', (body) => {
    expect(parseVerifyRequest(body)).toEqual(viaSchema(VerifyRequest, body));
  });

  it('agrees with VerifyRequest on 2,000 generated bodies', () => {
    for (const body of randomValues(7, 2_000)) {
      expect(parseVerifyRequest(body), JSON.stringify(body)).toEqual(viaSchema(VerifyRequest, body));
    }
  });
});

describe('the bulk-verify hand parser', () => {
  const table: unknown[] = [
    { phoneNumbers: ['08031234567', 8031234567, null, '123'] },
    { phoneNumbers: many(MAX_BULK_VERIFY_NUMBERS) },
    { phoneNumbers: many(MAX_BULK_VERIFY_NUMBERS + 1) },
    { phoneNumbers: [] },
    { phoneNumbers: '08031234567' },
    { phoneNumbers: null },
    { numbers: [] },
    { phoneNumbers: ['08031234567'], customer: 'cust-7' },
    { phoneNumbers: ['08031234567'], customer: -1 },
    { phoneNumbers: [], customer: [] },
    [],
    null,
    'x',
  ];

  it.each(table)('agrees with BulkVerifyRequest on %j', (body) => {
    expect(parseBulkVerifyRequest(body)).toEqual(viaSchema(BulkVerifyRequest, body));
  });

  it('agrees with BulkVerifyRequest on 2,000 generated bodies', () => {
    for (const body of randomValues(11, 2_000)) {
      expect(parseBulkVerifyRequest(body), JSON.stringify(body)).toEqual(viaSchema(BulkVerifyRequest, body));
    }
  });

  it('names the limit when there are too many numbers', () => {
    const parsed = parseBulkVerifyRequest({ phoneNumbers: many(501) });
    expect(parsed).toEqual({
      ok: false,
      errors: [{ field: 'phoneNumbers', message: 'has 501 numbers; at most 500 per request' }],
    });
  });
});
