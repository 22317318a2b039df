import { allocatedOperator, type TelecomStatus } from '@hub/schemas';
import type { BvnLink, CompletedDelink, NinLink, OpenDelink, StateRecord, StoredNinLink } from './record.ts';

export const CONFLICT_CODES = [
  'STALE_LINKAGE',
  'MULTIPLE_ACTIVE_NIN',
  'NIN_BVN_MISMATCH',
  'BLACKLISTED_WITH_LINKAGES',
] as const;
export type ConflictCode = (typeof CONFLICT_CODES)[number];

export interface Conflict {
  code: ConflictCode;
  /** YYYY-MM-DD */
  since: string;
}

export type LifecycleStatus = 'ACTIVE' | 'RECYCLED' | 'CONFLICTED' | 'BLOCKED' | 'AVAILABLE';
export type CleanupStatus = 'not_required' | 'pending' | 'in_progress' | 'completed';

/** Stored facts plus everything docs/state-model.md derives from them. */
export interface StateView {
  msisdn: string;
  version: number;
  /** Serving operator: the newest status event's, else the prefix's allocated operator, else null. */
  operator: string | null;
  telecomStatus: TelecomStatus | null;
  statusDate: string | null;
  reassignmentDate: string | null;
  lastSwappedDate: string | null;
  lastChurnedDate: string | null;
  lastReassignedDate: string | null;
  recycleDate: string | null;
  isRecycled: boolean;
  activeNinLinkages: number;
  activeBvnLinkages: number;
  conflicts: Conflict[];
  cleanupStatus: CleanupStatus;
  canAssignToNewUser: boolean;
  lifecycleStatus: LifecycleStatus;
  openDelink: OpenDelink | null;
  ninLinkages: NinLink[];
  bvnLinkages: BvnLink[];
  /**
   * Linkages left out of `ninLinkages` / `bvnLinkages` (and out of every count and conflict above)
   * because the record keeps at most LINKAGE_LIMIT per kind; ClickHouse holds them all. Non-zero
   * only for a number flooded with linkages.
   */
  droppedNinLinkages: number;
  droppedBvnLinkages: number;
}

function maxDate(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

export function recycleDateOf(r: StateRecord): string | null {
  return maxDate(r.lastChurnedDate, r.lastReassignedDate);
}

/** Old = linked strictly before the recycle date (the previous owner's). */
export function isOld(link: Pick<NinLink, 'linkDate'>, recycleDate: string | null): boolean {
  return recycleDate !== null && link.linkDate < recycleDate;
}

/** Greatest of the ascending `recycleDates` that is on or before `date`, or null. */
function recycleOnOrBefore(recycleDates: readonly string[], date: string): string | null {
  let found: string | null = null;
  for (const d of recycleDates) {
    if (d > date) break;
    found = d;
  }
  return found;
}

/**
 * The date a completed delink clears a linkage of kind `kind` linked on `linkDate`, or null: the
 * earliest completed delink C of a matching scope (NIN, BVN or ALL) such that the linkage is older
 * than R_C, the greatest recycle date on or before C's date — i.e. it was a previous owner's at the
 * time of a recycle that preceded the completion.
 */
export function delinkClearedDate(
  r: Pick<StateRecord, 'recycleDates' | 'completedDelinks'>,
  kind: 'NIN' | 'BVN',
  linkDate: string,
): string | null {
  // completedDelinks is sorted by date, so the first match is the earliest.
  for (const c of r.completedDelinks as readonly CompletedDelink[]) {
    if (c.scope !== 'ALL' && c.scope !== kind) continue;
    const recycle = recycleOnOrBefore(r.recycleDates, c.date);
    if (recycle !== null && linkDate < recycle) return c.date;
  }
  return null;
}

function clearedDateOf(r: StateRecord, kind: 'NIN' | 'BVN', l: StoredNinLink): string | null {
  const byDelink = delinkClearedDate(r, kind, l.linkDate);
  if (l.unlinkedDate === null) return byDelink;
  if (byDelink === null || l.unlinkedDate < byDelink) return l.unlinkedDate;
  return byDelink;
}

/** The record's linkages as the view shows them, with cleared dates derived from the stored facts. */
export function linkagesOf(r: StateRecord): { nin: NinLink[]; bvn: BvnLink[] } {
  return {
    nin: r.nin.map((l) => ({
      token: l.token,
      masked: l.masked,
      linkDate: l.linkDate,
      clearedDate: clearedDateOf(r, 'NIN', l),
    })),
    bvn: r.bvn.map((l) => ({
      token: l.token,
      masked: l.masked,
      holderNinToken: l.holderNinToken,
      linkDate: l.linkDate,
      clearedDate: clearedDateOf(r, 'BVN', l),
    })),
  };
}

/** The view of a record: its summary (deriveSummary) and its linkage lists, in the view's field order. */
export function deriveView(msisdn: string, r: StateRecord): StateView {
  const { droppedNinLinkages, droppedBvnLinkages, ...summary } = deriveSummary(msisdn, r);
  const links = linkagesOf(r);
  return {
    ...summary,
    ninLinkages: links.nin,
    bvnLinkages: links.bvn,
    droppedNinLinkages,
    droppedBvnLinkages,
  };
}

/** The view without its linkage lists: what a StateChange record carries. */
export type StateSummary = Omit<StateView, 'ninLinkages' | 'bvnLinkages'>;

/**
 * Everything the view derives but the linkage lists: the one place the conflict, cleanup and
 * lifecycle rules are computed. Plain loops over the stored linkages (the state builder derives one
 * per changed number and has no use for the lists, which were most of what deriving cost);
 * derive.test.ts checks it against the rules stated over the view's linkage lists.
 */
export function deriveSummary(msisdn: string, r: StateRecord): StateSummary {
  const recycleDate = recycleDateOf(r);
  const isRecycled = recycleDate !== null;
  let activeNin = 0;
  let activeBvn = 0;
  let hasStale = false;
  // Greatest link date of the active NIN linkages ('' while there are none).
  let ninSince = '';
  for (const l of r.nin) {
    if (l.unlinkedDate !== null || delinkClearedDate(r, 'NIN', l.linkDate) !== null) continue;
    activeNin++;
    if (l.linkDate > ninSince) ninSince = l.linkDate;
    if (recycleDate !== null && l.linkDate < recycleDate) hasStale = true;
  }
  let mismatch = false;
  let mismatchSince = ninSince;
  for (const b of r.bvn) {
    if (b.unlinkedDate !== null || delinkClearedDate(r, 'BVN', b.linkDate) !== null) continue;
    activeBvn++;
    if (recycleDate !== null && b.linkDate < recycleDate) hasStale = true;
    if (activeNin > 0 && b.holderNinToken !== null && !isActiveNin(r, b.holderNinToken)) {
      mismatch = true;
      if (b.linkDate > mismatchSince) mismatchSince = b.linkDate;
    }
  }

  const conflicts: Conflict[] = [];
  if (hasStale && recycleDate !== null) conflicts.push({ code: 'STALE_LINKAGE', since: recycleDate });
  if (activeNin >= 2) conflicts.push({ code: 'MULTIPLE_ACTIVE_NIN', since: ninSince });
  if (mismatch) conflicts.push({ code: 'NIN_BVN_MISMATCH', since: mismatchSince });
  const blacklisted = r.telecomStatus === 'BLACKLISTED';
  const blacklistedWithLinkages = blacklisted && activeNin + activeBvn > 0 && r.statusDate !== null;
  if (blacklistedWithLinkages) conflicts.push({ code: 'BLACKLISTED_WITH_LINKAGES', since: r.statusDate! });

  let cleanupStatus: CleanupStatus;
  if (!isRecycled) cleanupStatus = 'not_required';
  else if (!hasStale) cleanupStatus = 'completed';
  else cleanupStatus = r.openDelink?.action === 'APPROVED' ? 'in_progress' : 'pending';

  let lifecycleStatus: LifecycleStatus;
  if (blacklisted) lifecycleStatus = 'BLOCKED';
  else if (activeNin >= 2 || mismatch || blacklistedWithLinkages) lifecycleStatus = 'CONFLICTED';
  else if (hasStale) lifecycleStatus = 'RECYCLED';
  else if (isRecycled && r.telecomStatus === 'CHURNED') lifecycleStatus = 'AVAILABLE';
  else lifecycleStatus = 'ACTIVE';

  return {
    msisdn,
    version: r.version,
    operator: r.operator ?? allocatedOperator(msisdn)?.code ?? null,
    telecomStatus: r.telecomStatus,
    statusDate: r.statusDate,
    reassignmentDate: r.reassignmentDate,
    lastSwappedDate: r.lastSwappedDate,
    lastChurnedDate: r.lastChurnedDate,
    lastReassignedDate: r.lastReassignedDate,
    recycleDate,
    isRecycled,
    activeNinLinkages: activeNin,
    activeBvnLinkages: activeBvn,
    conflicts,
    cleanupStatus,
    canAssignToNewUser: isRecycled && !hasStale && !blacklisted,
    lifecycleStatus,
    openDelink: r.openDelink,
    droppedNinLinkages: r.droppedLinkages.nin,
    droppedBvnLinkages: r.droppedLinkages.bvn,
  };
}

/** Whether the record holds an active (not unlinked, not delink-cleared) NIN linkage of `token`. */
function isActiveNin(r: StateRecord, token: string): boolean {
  for (const l of r.nin) {
    if (l.token === token && l.unlinkedDate === null && delinkClearedDate(r, 'NIN', l.linkDate) === null)
      return true;
  }
  return false;
}
