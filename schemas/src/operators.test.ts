import { describe, expect, it } from 'vitest';
import { allocatedOperator, OPERATORS, prefixesOf } from './operators.ts';

describe('number ranges', () => {
  it('maps prefixes to the allocated operator', () => {
    expect(allocatedOperator('2348031234567')?.code).toBe('MTN');
    expect(allocatedOperator('2348021234567')?.code).toBe('AIRTEL');
    expect(allocatedOperator('2347059316841')?.name).toBe('GLOBACOM');
    expect(allocatedOperator('2349091234567')?.code).toBe('9MOBILE');
  });

  it('prefers the longest prefix (7025 is MTN, 7020 Smile, 702x otherwise none)', () => {
    expect(allocatedOperator('2347025123456')?.code).toBe('MTN');
    expect(allocatedOperator('2347020123456')?.code).toBe('SMILE');
    expect(allocatedOperator('2347021123456')).toBeUndefined();
  });

  it('knows no operator for unallocated ranges', () => {
    expect(allocatedOperator('2348012345678')).toBeUndefined();
  });

  it('gives every operator at least one prefix and shares that sum to about 1', () => {
    for (const o of OPERATORS) expect(prefixesOf(o.code).length).toBeGreaterThan(0);
    const total = OPERATORS.reduce((s, o) => s + o.share, 0);
    expect(total).toBeGreaterThan(0.99);
    expect(total).toBeLessThan(1.01);
  });
});
