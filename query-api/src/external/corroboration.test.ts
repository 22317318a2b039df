import { mask, tokenise } from '@hub/schemas';
import type { BvnLink, NinLink } from '@hub/state';
import { describe, expect, it } from 'vitest';
import { compareBvns, compareNins, crossCheck } from './corroboration.ts';

const SECRET = 'test-secret';
const person = (nin: string) => ({ nin, firstName: 'A', surname: 'B', dateOfBirth: '1990-01-01' });
const ninLink = (nin: string, clearedDate: string | null = null): NinLink => ({
  token: tokenise('NIN', nin, SECRET),
  masked: mask(nin),
  linkDate: '2020-01-01',
  clearedDate,
});
const bvnRecord = (bvn: string, nin: string | null) => ({
  bvn,
  nin,
  firstName: 'A',
  surname: 'B',
  dateOfBirth: '1990-01-01',
  phoneNumber: null,
  kycLevel: null,
});
const bvnLink = (bvn: string, holderNin: string | null): BvnLink => ({
  token: tokenise('BVN', bvn, SECRET),
  masked: mask(bvn),
  linkDate: '2021-01-01',
  clearedDate: null,
  holderNinToken: holderNin === null ? null : tokenise('NIN', holderNin, SECRET),
});

describe('NIN comparison', () => {
  it('agrees when the source links exactly the hub’s active NINs (cleared ones the source dropped too)', () => {
    const v = compareNins(
      [person('11111111111')],
      [ninLink('11111111111'), ninLink('22222222222', '2023-01-01')],
      SECRET,
    );
    expect(v).toEqual({ status: 'agrees', latency_ms: 0, linked: ['*******1111'] });
  });

  it('names each difference in both directions, masked', () => {
    const v = compareNins(
      [person('11111111111'), person('33333333333')],
      [ninLink('11111111111', '2023-01-01'), ninLink('44444444444')],
      SECRET,
    );
    expect(v.status).toBe('disagrees');
    if (v.status !== 'disagrees') return;
    expect(v.differences.map((d) => [d.masked, d.hub, d.source])).toEqual([
      ['*******1111', 'cleared', 'linked'],
      ['*******3333', 'absent', 'linked'],
      ['*******4444', 'active', 'absent'],
    ]);
    expect(JSON.stringify(v)).not.toMatch(/\d{11}/);
  });
});

describe('BVN comparison', () => {
  it('flags a BVN whose holder NIN differs from the hub’s, but not one the hub has no holder for', () => {
    const v = compareBvns(
      [bvnRecord('55555555555', '11111111111'), bvnRecord('66666666666', '11111111111')],
      [bvnLink('55555555555', '22222222222'), bvnLink('66666666666', null)],
      SECRET,
    );
    expect(v.status).toBe('disagrees');
    if (v.status !== 'disagrees') return;
    expect(v.differences).toEqual([
      expect.objectContaining({ identifier: 'BVN_HOLDER_NIN', masked: '*******5555' }),
    ]);
  });
});

describe('cross check between the sources', () => {
  it('agrees, disagrees, or says why it cannot tell', () => {
    expect(crossCheck([person('11111111111')], [bvnRecord('55555555555', '11111111111')]).status).toBe(
      'agrees',
    );
    expect(crossCheck([person('11111111111')], [bvnRecord('55555555555', '22222222222')]).status).toBe(
      'disagrees',
    );
    expect(crossCheck([], [bvnRecord('55555555555', '22222222222')]).status).toBe('not_applicable');
    expect(crossCheck(null, []).status).toBe('unavailable');
  });
});
