import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULE_SECONDS, describeSchedule, nextAttemptAt } from './schedule.ts';

describe('retry schedule', () => {
  it('spreads the default over more than 24 hours', () => {
    const total = DEFAULT_SCHEDULE_SECONDS.reduce<number>((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(24 * 3600);
    expect(describeSchedule(DEFAULT_SCHEDULE_SECONDS)).toBe(
      '0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h (8 attempts over 27.6 h)',
    );
  });

  it('schedules the next attempt with ±20% jitter and stops when the schedule is spent', () => {
    const s = [0, 10, 100];
    expect(nextAttemptAt(s, 1, 1000, () => 0)).toBe(1000 + 8000);
    expect(nextAttemptAt(s, 1, 1000, () => 1)).toBe(1000 + 12000);
    expect(nextAttemptAt(s, 2, 0, () => 0.5)).toBe(100_000);
    expect(nextAttemptAt(s, 3, 0)).toBeNull();
  });
});
