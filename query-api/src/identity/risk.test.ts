import { describe, expect, it } from 'vitest';
import {
  endOfLagosDay,
  latestSimChangeInstant,
  monitoredDays,
  reassignedSince,
  swappedWithin,
} from './risk.ts';
import { viewOf } from './sample-views.ts';

const NOW = Date.UTC(2025, 6, 1, 9, 0, 0); // 2025-07-01 10:00 in Lagos

describe('SIM swap', () => {
  it('ends a Lagos day at 22:59:59.999 UTC', () => {
    expect(new Date(endOfLagosDay('2025-06-30')).toISOString()).toBe('2025-06-30T22:59:59.999Z');
  });

  it('counts a swap dated D as possibly at any time on D', () => {
    const v = viewOf([{ status: 'SWAPPED', date: '2025-06-30' }]);
    // 10:00 on 07-01 (Lagos) minus 11 h is 23:00 on 06-30: the last hour of 06-30 is in the window.
    expect(swappedWithin(v, 11, NOW)).toBe(true);
    // minus 10 h is 00:00 on 07-01: the whole of 06-30 is before the window.
    expect(swappedWithin(v, 10, NOW)).toBe(false);
  });

  it('treats a reassignment as a SIM change, and knows nothing of an unknown number', () => {
    expect(swappedWithin(viewOf([{ status: 'REASSIGNED', date: '2025-06-25' }]), 240, NOW)).toBe(true);
    expect(swappedWithin(null, 2400, NOW)).toBe(false);
    expect(latestSimChangeInstant(null, NOW)).toBeNull();
  });

  it('dates the latest change at the end of its day, capped at now', () => {
    expect(latestSimChangeInstant(viewOf([{ status: 'SWAPPED', date: '2025-06-01' }]), NOW)).toBe(
      '2025-06-01T23:59:59+01:00',
    );
    expect(latestSimChangeInstant(viewOf([{ status: 'SWAPPED', date: '2025-07-01' }]), NOW)).toBe(
      '2025-07-01T10:00:00+01:00',
    );
  });

  it('reports the monitored period in whole days', () => {
    expect(monitoredDays('2025-06-01', NOW)).toBe(30);
    expect(monitoredDays(null, NOW)).toBe(0);
  });
});

describe('reassigned numbers', () => {
  const churned = viewOf([{ status: 'CHURNED', date: '2024-03-01' }]);

  it('answers yes when churned or reassigned on or after the date', () => {
    expect(reassignedSince(churned, '2024-03-01', '2020-01-01')).toBe('yes');
    expect(reassignedSince(churned, '2019-01-01', '2020-01-01')).toBe('yes');
  });

  it('answers no after the last recycle, and no_data before coverage starts', () => {
    expect(reassignedSince(churned, '2024-03-02', '2020-01-01')).toBe('no');
    expect(reassignedSince(null, '2019-12-31', '2020-01-01')).toBe('no_data');
    expect(reassignedSince(null, '2020-01-01', '2020-01-01')).toBe('no');
    expect(reassignedSince(null, '2024-01-01', null)).toBe('no_data');
  });
});
