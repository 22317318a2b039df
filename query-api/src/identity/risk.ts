import { dateToDays, dateToEpochMs, todayInLagos } from '@hub/schemas';
import type { StateView } from '@hub/state';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Nigeria is UTC+1 all year; operator dates are Lagos calendar days. */
const LAGOS_OFFSET = HOUR;

export const MAX_AGE_MIN = 1;
export const MAX_AGE_MAX = 2400;
export const MAX_AGE_DEFAULT = 240;

/**
 * The latest SIM change the hub knows: a SIM swap, or a reassignment (the number went onto a new
 * subscriber's SIM). Day-granular: operators report dates, not times.
 */
export function latestSimChangeDate(view: StateView | null): string | null {
  if (!view) return null;
  const { lastSwappedDate: s, lastReassignedDate: r } = view;
  if (s === null) return r;
  if (r === null) return s;
  return s.localeCompare(r) > 0 ? s : r;
}

/** The last instant of a Lagos calendar day, in epoch ms. */
export function endOfLagosDay(date: string): number {
  return dateToEpochMs(date) + DAY - LAGOS_OFFSET - 1;
}

/**
 * Whether the SIM changed within the last `maxAgeHours`. A change dated D may have happened at any
 * time on D, so it counts when any instant of D (Lagos) lies in the window: the conservative answer
 * for fraud checks, which may say "swapped" up to a day early but never "not swapped" wrongly.
 */
export function swappedWithin(view: StateView | null, maxAgeHours: number, now: number): boolean {
  const date = latestSimChangeDate(view);
  if (date === null) return false;
  return endOfLagosDay(date) >= now - maxAgeHours * HOUR;
}

/**
 * The latest possible instant of the latest SIM change, as ISO 8601 with the Lagos offset, capped
 * at `now`: an age computed from it is never overstated.
 */
export function latestSimChangeInstant(view: StateView | null, now: number): string | null {
  const date = latestSimChangeDate(view);
  if (date === null) return null;
  const instant = Math.min(endOfLagosDay(date), now);
  return `${new Date(instant + LAGOS_OFFSET).toISOString().slice(0, 19)}+01:00`;
}

/** Whole days from `earliest` (YYYY-MM-DD) to today in Lagos; 0 when the hub holds nothing. */
export function monitoredDays(earliest: string | null, now: number): number {
  if (earliest === null) return 0;
  return Math.max(0, dateToDays(todayInLagos(now)) - dateToDays(earliest));
}

export type ReassignedResult = 'yes' | 'no' | 'no_data';

/**
 * FCC Reassigned Numbers Database semantics: "yes" when the number was permanently disconnected
 * (churned) or reassigned on or after `date`; otherwise "no_data" when `date` precedes the earliest
 * status event the hub holds from the number's operator (the hub cannot vouch for that period),
 * else "no". A known disconnection answers "yes" even before coverage starts: it is still true.
 */
export function reassignedSince(
  view: StateView | null,
  date: string,
  earliestOperatorDate: string | null,
): ReassignedResult {
  const recycle = view?.recycleDate ?? null;
  if (recycle !== null && recycle >= date) return 'yes';
  if (earliestOperatorDate === null || date < earliestOperatorDate) return 'no_data';
  return 'no';
}
