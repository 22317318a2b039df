import { describe, expect, it } from 'vitest';
import { checkIdentifier, mask, TOKEN_HEX_LENGTH, tokenise } from './identity-token.ts';

describe('identity tokens', () => {
  const secret = 'a-test-secret-of-at-least-32-characters!';

  it('is deterministic for one secret and differs across secrets and kinds', () => {
    const a = tokenise('NIN', '12345678901', secret);
    expect(a).toHaveLength(TOKEN_HEX_LENGTH);
    expect(tokenise('NIN', '12345678901', secret)).toBe(a);
    expect(tokenise('NIN', '12345678901', `${secret}x`)).not.toBe(a);
    expect(tokenise('BVN', '12345678901', secret)).not.toBe(a);
  });

  it('never contains the raw identifier', () => {
    expect(tokenise('BVN', '22222222222', secret)).not.toContain('2222222');
  });

  it('masks all but the last four digits', () => {
    expect(mask('12345678901')).toBe('*******8901');
  });

  it('checks identifier lengths', () => {
    expect(checkIdentifier('NIN', '1234567890')).toEqual({
      ok: false,
      reason: 'NIN must be exactly 11 digits',
    });
    expect(checkIdentifier('NUBAN', '0123456789')).toEqual({ ok: true, value: '0123456789' });
    expect(checkIdentifier('BVN', 22123456789)).toEqual({
      ok: false,
      reason: 'BVN must be a string of 11 digits',
    });
  });
});
