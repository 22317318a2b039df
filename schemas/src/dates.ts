/** Calendar dates as YYYY-MM-DD strings, validated as real dates. */

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export type DateCheck = { ok: true; date: string } | { ok: false; reason: string };

export function checkDate(value: unknown): DateCheck {
  if (typeof value !== 'string') return { ok: false, reason: 'must be a date string in YYYY-MM-DD format' };
  const m = DATE_RE.exec(value);
  if (!m) return { ok: false, reason: `'${truncate(value)}' is not in YYYY-MM-DD format` };
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || y < 1900) {
    return { ok: false, reason: `'${value}' is not a real calendar date` };
  }
  return { ok: true, date: value };
}

/** Today's date in Nigeria (West Africa Time, UTC+1, no daylight saving). */
export function todayInLagos(now: number = Date.now()): string {
  return new Date(now + 3_600_000).toISOString().slice(0, 10);
}

/** Epoch milliseconds of midnight UTC at the start of a YYYY-MM-DD date. */
export function dateToEpochMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

export function epochMsToDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whole days since 1970-01-01 for a YYYY-MM-DD date. */
export function dateToDays(date: string): number {
  return Math.floor(dateToEpochMs(date) / 86_400_000);
}

/** Day numbers seen so far and their dates: stored records repeat a few thousand distinct days. */
const DAY_NAMES = new Map<number, string>();
const MAX_DAY_NAMES = 100_000;

export function daysToDate(days: number): string {
  let date = DAY_NAMES.get(days);
  if (date === undefined) {
    date = epochMsToDate(days * 86_400_000);
    if (DAY_NAMES.size >= MAX_DAY_NAMES) DAY_NAMES.clear();
    DAY_NAMES.set(days, date);
  }
  return date;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
