import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  cbnBankCodeField,
  customerField,
  dayRangeProblem,
  identityRecordId,
  lagosDayBounds,
  MAX_RANGE_DAYS,
} from './records.ts';

describe('identity record ids', () => {
  it('are 24 hex digits, the same for one NIN token every time, different for another', () => {
    const id = identityRecordId('0123456789abcdef');
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(identityRecordId('0123456789abcdef')).toBe(id);
    expect(identityRecordId('0123456789abcdee')).not.toBe(id);
  });

  it('are the derivation migration 016 runs in ClickHouse (SHA-256 of the prefixed token, first 24 digits)', () => {
    const token = 'fedcba9876543210';
    const sha = createHash('sha256').update(`hub-identity-record:${token}`).digest('hex');
    expect(identityRecordId(token)).toBe(sha.slice(0, 24));
  });
});

describe('date ranges of the by-date operations', () => {
  it('accepts one day and the documented maximum', () => {
    expect(dayRangeProblem('2025-07-01', '2025-07-01')).toBeNull();
    expect(MAX_RANGE_DAYS).toBe(92);
    expect(dayRangeProblem('2025-01-01', '2025-04-02')).toBeNull(); // 92 days
  });

  it('names from when it is after to, and to when the range is one day too long', () => {
    expect(dayRangeProblem('2025-07-02', '2025-07-01')?.field).toBe('from');
    expect(dayRangeProblem('2025-01-01', '2025-04-03')).toEqual({
      field: 'to',
      message: 'the range covers 93 days; at most 92 days per request',
    });
  });

  it('bounds Lagos days (UTC+1), never before the epoch', () => {
    expect(lagosDayBounds('2025-07-01', '2025-07-01')).toEqual({
      start: Date.UTC(2025, 5, 30, 23),
      end: Date.UTC(2025, 6, 1, 23),
    });
    expect(lagosDayBounds('1970-01-01', '1970-01-01').start).toBe(0);
  });
});

describe('request fields', () => {
  it('takes a customer reference as text or as a whole number, and refuses anything else', () => {
    expect(customerField().parse('140afb3ddecee700130acbc4')).toBe('140afb3ddecee700130acbc4');
    expect(customerField().parse(1234567890)).toBe('1234567890');
    expect(customerField().safeParse('has spaces').success).toBe(false);
    expect(customerField().safeParse('x'.repeat(65)).success).toBe(false);
    expect(customerField().safeParse(1.5).success).toBe(false);
  });

  it('tells an Okra bank id from a bad CBN code', () => {
    expect(cbnBankCodeField().parse('058')).toBe('058');
    const okra = cbnBankCodeField().safeParse('5d6fe57a4099cc4b210bbeb4');
    expect(okra.error?.issues[0]?.message).toContain('CBN bank codes');
    expect(cbnBankCodeField().safeParse('58').error?.issues[0]?.message).toBe(
      'must be a CBN bank code of 3 to 6 digits',
    );
  });
});
