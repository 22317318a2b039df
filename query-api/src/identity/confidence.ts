import { dateToDays } from '@hub/schemas';
import type { StateView } from '@hub/state';

/**
 * Confidence that the identities linked to a number belong to whoever holds it now, in [0, 1].
 *
 * The score starts at BASE (the hub knows the number) and each reason that applies adds its
 * weight; the sum is clamped to [0, 1] and rounded to two decimals. Weights are additive so a bank
 * can read the reasons list and rebuild the score by hand. Each reason is listed once at most.
 */
export const BASE_CONFIDENCE = 0.7;

/** Days after a SIM swap (inclusive) during which the swap counts as recent (account-takeover window). */
export const RECENT_SWAP_DAYS = 10;
/** Days after a reassignment (inclusive) during which the new owner's linkages may not have arrived yet. */
export const RECENT_REASSIGNMENT_DAYS = 90;

export const REASON_WEIGHTS = {
  /** NIBSS's BVN holder NIN equals an active NIMC NIN on the number: two sources name one person. */
  SOURCES_AGREE: 0.3,
  /** Only one source ties the number to a person (NIN without BVN, or BVN without a holder NIN). */
  SINGLE_SOURCE: 0,
  /** NIBSS's BVN holder NIN is not among NIMC's active NINs for the number. */
  NIN_BVN_MISMATCH: -0.4,
  /** An active linkage predates the last churn/reassignment: it belongs to a previous owner. */
  STALE_LINKAGE: -0.5,
  /** Two or more people's NINs are actively linked to the number. */
  MULTIPLE_ACTIVE_NIN: -0.3,
  /** SIM swapped within RECENT_SWAP_DAYS. */
  RECENT_SWAP: -0.4,
  /** Reassigned within RECENT_REASSIGNMENT_DAYS. */
  RECENTLY_REASSIGNED: -0.3,
  /** The operator reports the number churned (out of service). */
  CHURNED: -0.5,
  /** The operator has blacklisted (barred) the number. */
  BLACKLISTED: -0.6,
  /** No active NIN or BVN linkage: nothing ties the number to a person. */
  NO_LINKAGE: -0.4,
  /** The operator never reported a status for the number; the hub knows only its linkages. */
  NO_TELECOM_STATUS: -0.1,
} as const;

export type ReasonCode = keyof typeof REASON_WEIGHTS;
export const REASON_CODES = Object.keys(REASON_WEIGHTS) as ReasonCode[];

export interface Reason {
  code: ReasonCode;
  weight: number;
  detail: string;
}

export interface Confidence {
  score: number;
  reasons: Reason[];
}

/** Days from `date` to `today` (both YYYY-MM-DD); negative when `date` is in the future. */
export function daysSince(date: string, today: string): number {
  return dateToDays(today) - dateToDays(date);
}

/** Scores a number's state as of `today` (YYYY-MM-DD, Lagos). Pure: same input, same answer. */
export function confidenceOf(view: StateView, today: string): Confidence {
  const reasons: Reason[] = [];
  const add = (code: ReasonCode, detail: string) =>
    reasons.push({ code, weight: REASON_WEIGHTS[code], detail });

  const activeNin = view.ninLinkages.filter((l) => l.clearedDate === null);
  const activeBvn = view.bvnLinkages.filter((l) => l.clearedDate === null);
  const ninTokens = new Set(activeNin.map((l) => l.token));
  const conflictCodes = new Set(view.conflicts.map((c) => c.code));
  const since = (code: string) => view.conflicts.find((c) => c.code === code)?.since ?? '';

  if (activeNin.length === 0 && activeBvn.length === 0) {
    add('NO_LINKAGE', 'no active NIN or BVN linkage');
  } else if (activeBvn.some((b) => b.holderNinToken !== null && ninTokens.has(b.holderNinToken))) {
    add('SOURCES_AGREE', "NIBSS's BVN holder is the person NIMC links to the number");
  } else {
    add('SINGLE_SOURCE', 'only one identity source ties the number to a person');
  }
  if (conflictCodes.has('NIN_BVN_MISMATCH'))
    add(
      'NIN_BVN_MISMATCH',
      `the BVN holder's NIN differs from the linked NIN since ${since('NIN_BVN_MISMATCH')}`,
    );
  if (conflictCodes.has('STALE_LINKAGE'))
    add('STALE_LINKAGE', `a previous owner's linkage is still active since ${since('STALE_LINKAGE')}`);
  if (conflictCodes.has('MULTIPLE_ACTIVE_NIN'))
    add('MULTIPLE_ACTIVE_NIN', `${activeNin.length} NINs are actively linked`);
  if (view.lastSwappedDate !== null && daysSince(view.lastSwappedDate, today) <= RECENT_SWAP_DAYS) {
    add('RECENT_SWAP', `SIM swapped on ${view.lastSwappedDate}, within ${RECENT_SWAP_DAYS} days`);
  }
  if (
    view.lastReassignedDate !== null &&
    daysSince(view.lastReassignedDate, today) <= RECENT_REASSIGNMENT_DAYS
  ) {
    add(
      'RECENTLY_REASSIGNED',
      `reassigned on ${view.lastReassignedDate}, within ${RECENT_REASSIGNMENT_DAYS} days`,
    );
  }
  if (view.telecomStatus === 'CHURNED') add('CHURNED', `churned on ${view.statusDate}`);
  if (view.telecomStatus === 'BLACKLISTED') add('BLACKLISTED', `blacklisted on ${view.statusDate}`);
  if (view.telecomStatus === null) add('NO_TELECOM_STATUS', 'no status event from the operator');

  const sum = reasons.reduce((s, r) => s + r.weight, BASE_CONFIDENCE);
  return { score: Math.round(Math.min(1, Math.max(0, sum)) * 100) / 100, reasons };
}
