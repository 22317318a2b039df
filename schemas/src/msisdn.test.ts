import { describe, expect, it } from 'vitest';
import { nationalForm, normaliseMsisdn } from './msisdn.ts';

describe('normaliseMsisdn', () => {
  it.each([
    ['8012345678', '2348012345678'],
    ['08012345678', '2348012345678'],
    ['2348012345678', '2348012345678'],
    ['+2348012345678', '2348012345678'],
    ['+08012345678', '2348012345678'],
    ['07444009986', '2347444009986'],
  ])('accepts %s as %s', (input, canonical) => {
    expect(normaliseMsisdn(input)).toEqual({ ok: true, msisdn: canonical });
  });

  it.each([
    ['0801234578', 'has 10 digits and starts with 0'],
    ['0912345670', 'has 10 digits and starts with 0'],
    ['28123456789', 'has 11 digits but does not start with 0'],
    ['1348012345678', 'does not start with country code 234'],
    ['2340812345678', 'has a 0 after the country or trunk code'],
    ['080123', 'has 6 digits; expected 10, 11 or 13'],
    ['0801234567a', 'must contain only digits'],
    ['0801 234 5678', 'must contain only digits'],
    ['', 'must not be empty'],
  ])('rejects %s saying why', (input, reason) => {
    const result = normaliseMsisdn(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('rejects a JSON number, which would have lost its leading zero', () => {
    const result = normaliseMsisdn(8012345678);
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('JSON number') });
  });

  it('gives the 11-digit national form back', () => {
    expect(nationalForm('2348031234567')).toBe('08031234567');
  });
});
