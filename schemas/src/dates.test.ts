import { describe, expect, it } from 'vitest';
import { checkDate, dateToDays, daysToDate, todayInLagos } from './dates.ts';

describe('calendar dates', () => {
  it('accepts real dates', () => {
    expect(checkDate('2024-02-29')).toEqual({ ok: true, date: '2024-02-29' });
  });

  it.each([
    ['2023-02-29', 'not a real calendar date'],
    ['2025-13-01', 'not a real calendar date'],
    ['2025-9-15', 'not in YYYY-MM-DD format'],
    ['15/09/2025', 'not in YYYY-MM-DD format'],
  ])('rejects %s', (value, reason) => {
    const r = checkDate(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('uses West Africa Time for today', () => {
    expect(todayInLagos(Date.parse('2025-09-15T23:30:00Z'))).toBe('2025-09-16');
  });

  it('round-trips day numbers', () => {
    expect(daysToDate(dateToDays('2025-09-15'))).toBe('2025-09-15');
  });
});
