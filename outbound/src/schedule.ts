/**
 * The retry schedule: `delays[k]` seconds before attempt k+1 (the first is normally 0, "at once").
 * The default is Svix's: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts over
 * about 27.6 hours. Every delay after the first is spread by ±20% so that a receiver coming back
 * is not hit by every retry at the same instant.
 */
export const DEFAULT_SCHEDULE_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 36000] as const;

export const JITTER = 0.2;

/** When attempt `attemptsMade + 1` is due after a failure at `now`, or null when the schedule is spent. */
export function nextAttemptAt(
  delays: readonly number[],
  attemptsMade: number,
  now: number,
  random: () => number = Math.random,
): number | null {
  const delay = delays[attemptsMade];
  if (delay === undefined) return null;
  const spread = 1 + JITTER * (2 * random() - 1);
  return now + Math.round(delay * 1000 * spread);
}

/** The schedule as people read it, for the docs and the test report: "0s, 5s, 5m, …". */
export function describeSchedule(delays: readonly number[]): string {
  const unit = (s: number) =>
    s >= 3600 && s % 3600 === 0 ? `${s / 3600}h` : s >= 60 && s % 60 === 0 ? `${s / 60}m` : `${s}s`;
  const total = delays.reduce((a, b) => a + b, 0);
  return `${delays.map(unit).join(', ')} (${delays.length} attempts over ${(total / 3600).toFixed(1)} h)`;
}
