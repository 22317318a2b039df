import { describe, expect, it } from 'vitest';
import { BASE_CONFIDENCE, confidenceOf, REASON_WEIGHTS } from './confidence.ts';
import { type Step, viewOf } from './sample-views.ts';

const TODAY = '2025-07-01';
const score = (steps: Step[]) => confidenceOf(viewOf(steps), TODAY);
const codes = (steps: Step[]) => score(steps).reasons.map((r) => r.code);
const NORMAL: Step = { status: 'NORMAL', date: '2020-01-01' };

describe('confidence score', () => {
  it('gives full confidence when NIMC and NIBSS name the same person on a normal number', () => {
    const s = score([
      NORMAL,
      { nin: 'a', date: '2020-02-01' },
      { bvn: 'b', holder: 'a', date: '2020-03-01' },
    ]);
    expect(s).toMatchObject({ score: 1, reasons: [{ code: 'SOURCES_AGREE', weight: 0.3 }] });
  });

  it('stays at the base with a single source', () => {
    expect(score([NORMAL, { nin: 'a', date: '2020-02-01' }])).toMatchObject({
      score: BASE_CONFIDENCE,
      reasons: [{ code: 'SINGLE_SOURCE' }],
    });
  });

  it('flags a number with no linkage and no operator status', () => {
    const s = score([
      { nin: 'a', date: '2020-02-01' },
      { nin: 'a', date: '2020-03-01', unlink: true },
    ]);
    expect(s.reasons.map((r) => r.code)).toEqual(['NO_LINKAGE', 'NO_TELECOM_STATUS']);
    expect(s.score).toBeCloseTo(
      BASE_CONFIDENCE + REASON_WEIGHTS.NO_LINKAGE + REASON_WEIGHTS.NO_TELECOM_STATUS,
    );
  });

  it('names a BVN whose holder is not the linked NIN', () => {
    expect(
      codes([NORMAL, { nin: 'a', date: '2020-02-01' }, { bvn: 'b', holder: 'c', date: '2020-03-01' }]),
    ).toEqual(['SINGLE_SOURCE', 'NIN_BVN_MISMATCH']);
  });

  it('names a previous owner’s linkage and a recent reassignment', () => {
    const s = score([
      { nin: 'a', date: '2019-01-01' },
      { status: 'REASSIGNED', date: '2025-05-01', reassignmentDate: '2025-05-01' },
    ]);
    expect(s.reasons.map((r) => r.code)).toEqual(['SINGLE_SOURCE', 'STALE_LINKAGE', 'RECENTLY_REASSIGNED']);
    expect(s.score).toBe(0);
  });

  it('counts a swap as recent for 10 days, inclusive', () => {
    const linked: Step = { nin: 'a', date: '2020-01-01' };
    expect(codes([linked, { status: 'SWAPPED', date: '2025-06-21' }])).toContain('RECENT_SWAP');
    expect(codes([linked, { status: 'SWAPPED', date: '2025-06-20' }])).not.toContain('RECENT_SWAP');
  });

  it('names two active NINs, a blacklisting and a churn', () => {
    const a: Step = { nin: 'a', date: '2020-01-01' };
    expect(codes([NORMAL, a, { nin: 'b', date: '2021-01-01' }])).toContain('MULTIPLE_ACTIVE_NIN');
    expect(codes([a, { status: 'BLACKLISTED', date: '2024-01-01' }])).toContain('BLACKLISTED');
    expect(codes([{ status: 'CHURNED', date: '2024-01-01' }])).toContain('CHURNED');
  });

  it('clamps to [0, 1]', () => {
    const s = score([
      { nin: 'a', date: '2019-01-01' },
      { nin: 'b', date: '2019-02-01' },
      { bvn: 'c', holder: 'z', date: '2019-03-01' },
      { status: 'REASSIGNED', date: '2025-06-01', reassignmentDate: '2025-06-01' },
      { status: 'SWAPPED', date: '2025-06-29' },
      { status: 'BLACKLISTED', date: '2025-06-30' },
    ]);
    expect(s.score).toBe(0);
    expect(s.reasons.reduce((t, r) => t + r.weight, BASE_CONFIDENCE)).toBeLessThan(0);
  });
});
