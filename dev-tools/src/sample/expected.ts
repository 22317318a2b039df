import type { DelinkAction, DelinkScope, TelecomStatus } from '@hub/schemas';
import type { Population } from './population.ts';
import { tokenCache } from './tokens.ts';
import type { SampleNumber, TruthEvent } from './truth.ts';

export const CONFLICT_CODES = [
  'STALE_LINKAGE',
  'MULTIPLE_ACTIVE_NIN',
  'NIN_BVN_MISMATCH',
  'BLACKLISTED_WITH_LINKAGES',
] as const;
export type ConflictCode = (typeof CONFLICT_CODES)[number];
export type LifecycleStatus = 'ACTIVE' | 'RECYCLED' | 'CONFLICTED' | 'BLOCKED' | 'AVAILABLE';
export type CleanupStatus = 'not_required' | 'pending' | 'in_progress' | 'completed';

/** The final facts docs/state-model.md gives for one number, computed from its simulated life. */
export interface ExpectedState {
  msisdn: string;
  operator: string;
  telecomStatus: TelecomStatus | null;
  statusDate: string | null;
  reassignmentDate: string | null;
  lastSwappedDate: string | null;
  lastChurnedDate: string | null;
  lastReassignedDate: string | null;
  /** Tokens of the active NIN linkages, sorted. */
  activeNinTokens: string[];
  /** Tokens of the active BVN linkages, sorted. */
  activeBvnTokens: string[];
  lifecycleStatus: LifecycleStatus;
  isRecycled: boolean;
  activeNinLinkages: number;
  activeBvnLinkages: number;
  cleanupStatus: CleanupStatus;
  canAssignToNewUser: boolean;
  conflicts: { code: ConflictCode; since: string }[];
  /** The delink request still open (REQUESTED or APPROVED), if any. */
  openDelink: { requestId: string; action: 'REQUESTED' | 'APPROVED' } | null;
  /** Events delivered for the number, duplicates included: the state's `version` if each is applied once. */
  deliveries: number;
}

interface Link {
  /** Date of the latest LINK. */
  linkDate: string;
  /** An UNLINK followed the latest LINK. */
  unlinked: boolean;
  holderNin: string | null;
}

/** Raw facts: the truth of a life, as raw identifiers (tokenised only for the output). */
export interface TruthFacts {
  operator: string;
  latestStatus: { status: TelecomStatus; day: string; reassignmentDate: string | null } | null;
  lastDate: Partial<Record<'SWAPPED' | 'CHURNED' | 'REASSIGNED', string>>;
  /** Distinct dates of CHURNED and REASSIGNED events (the most recent HISTORY_LIMIT). */
  recycleDates: Set<string>;
  /** Distinct completed delinks as `day|scope` (the most recent HISTORY_LIMIT per scope). */
  completedDelinks: Set<string>;
  nins: Map<string, Link>;
  bvns: Map<string, Link>;
  openDelink: { requestId: string; action: 'REQUESTED' | 'APPROVED' } | null;
}

/** docs/state-model.md: how many recycle dates, and completed delinks per scope, are kept. */
export const HISTORY_LIMIT = 8;

const maxDate = (a: string | undefined, b: string): string => (a === undefined || b > a ? b : a);

export function emptyFacts(operator: string): TruthFacts {
  return {
    operator,
    latestStatus: null,
    lastDate: {},
    recycleDates: new Set(),
    completedDelinks: new Set(),
    nins: new Map(),
    bvns: new Map(),
    openDelink: null,
  };
}

/** Adds a recycle date, keeping the most recent HISTORY_LIMIT. */
export function addRecycleDate(facts: TruthFacts, day: string): void {
  facts.recycleDates.add(day);
  const sorted = [...facts.recycleDates].sort();
  for (const d of sorted.slice(0, Math.max(0, sorted.length - HISTORY_LIMIT))) facts.recycleDates.delete(d);
}

/** Adds a completed delink, keeping the most recent HISTORY_LIMIT of its scope. */
export function addCompletedDelink(facts: TruthFacts, day: string, scope: DelinkScope): void {
  facts.completedDelinks.add(`${day}|${scope}`);
  const sameScope = [...facts.completedDelinks].filter((k) => k.endsWith(`|${scope}`)).sort();
  for (const k of sameScope.slice(0, Math.max(0, sameScope.length - HISTORY_LIMIT))) {
    facts.completedDelinks.delete(k);
  }
}

/**
 * Walks a life in true chronological order. This is the ground truth of the simulation, not a
 * replay of deliveries: late and duplicate deliveries are placed so they cannot change it.
 */
export function truthFacts(number: Pick<SampleNumber, 'allocatedOperator' | 'truth'>): TruthFacts {
  const facts = emptyFacts(number.allocatedOperator);
  for (const e of number.truth) apply(facts, e);
  return facts;
}

function apply(facts: TruthFacts, e: TruthEvent): void {
  switch (e.kind) {
    case 'status-update': {
      if (facts.latestStatus === null || e.day >= facts.latestStatus.day) {
        facts.latestStatus = { status: e.status, day: e.day, reassignmentDate: e.reassignmentDate };
        facts.operator = e.operator;
      }
      if (e.status === 'SWAPPED' || e.status === 'CHURNED' || e.status === 'REASSIGNED') {
        facts.lastDate[e.status] = maxDate(facts.lastDate[e.status], e.day);
      }
      if (e.status === 'CHURNED' || e.status === 'REASSIGNED') addRecycleDate(facts, e.day);
      return;
    }
    case 'nin-linkage':
      link(facts.nins, e.nin, e.action, e.day, null);
      return;
    case 'bvn-linkage':
      link(facts.bvns, e.bvn, e.action, e.day, e.holderNin);
      return;
    case 'delink':
      delink(facts, e.requestId, e.action, e.scope, e.day);
      return;
  }
}

function link(
  links: Map<string, Link>,
  raw: string,
  action: 'LINK' | 'UNLINK',
  day: string,
  holder: string | null,
) {
  if (action === 'LINK') links.set(raw, { linkDate: day, unlinked: false, holderNin: holder });
  else {
    const found = links.get(raw);
    if (found) found.unlinked = true;
  }
}

function delink(facts: TruthFacts, requestId: string, action: DelinkAction, scope: DelinkScope, day: string) {
  if (action === 'REQUESTED' || action === 'APPROVED') {
    facts.openDelink = { requestId, action };
    return;
  }
  if (facts.openDelink?.requestId === requestId) facts.openDelink = null;
  // The truth's day is the occurrence date, the same on the Lagos calendar (events happen 01-22 UTC).
  if (action === 'COMPLETED') addCompletedDelink(facts, day, scope);
}

/**
 * Whether a completed delink clears a linkage of `kind` linked on `linkDate`: some completion C of a
 * matching scope has a recycle on or before its date, the latest of which is after the link date
 * (the linkage was a previous owner's when the number was recycled before the completion).
 */
export function clearedByDelink(facts: TruthFacts, kind: 'NIN' | 'BVN', linkDate: string): boolean {
  const recycles = [...facts.recycleDates];
  for (const key of facts.completedDelinks) {
    const [day = '', scope] = key.split('|');
    if (scope !== 'ALL' && scope !== kind) continue;
    const before = recycles.filter((r) => r <= day);
    if (before.length > 0 && linkDate < latest(before)) return true;
  }
  return false;
}

function recycleDate(facts: TruthFacts): string | null {
  const { CHURNED, REASSIGNED } = facts.lastDate;
  if (CHURNED === undefined) return REASSIGNED ?? null;
  if (REASSIGNED === undefined) return CHURNED;
  return latest([CHURNED, REASSIGNED]);
}

/** Derived facts of docs/state-model.md, from the stored ones. */
export function deriveState(
  msisdn: string,
  facts: TruthFacts,
  tokenOf: (kind: 'NIN' | 'BVN', raw: string) => string,
  deliveries: number,
): ExpectedState {
  const recycle = recycleDate(facts);
  const isRecycled = recycle !== null;
  const activeNins = [...facts.nins].filter(
    ([, l]) => !l.unlinked && !clearedByDelink(facts, 'NIN', l.linkDate),
  );
  const activeBvns = [...facts.bvns].filter(
    ([, l]) => !l.unlinked && !clearedByDelink(facts, 'BVN', l.linkDate),
  );
  const stale = recycle !== null && [...activeNins, ...activeBvns].some(([, l]) => l.linkDate < recycle);
  const telecomStatus = facts.latestStatus?.status ?? null;
  const conflicts: ExpectedState['conflicts'] = [];
  if (stale && recycle !== null) conflicts.push({ code: 'STALE_LINKAGE', since: recycle });
  if (activeNins.length >= 2) {
    conflicts.push({ code: 'MULTIPLE_ACTIVE_NIN', since: latest(activeNins.map(([, l]) => l.linkDate)) });
  }
  if (activeNins.length > 0) {
    // Compared as tokens, as the state machine sees them.
    const ninTokens = new Set(activeNins.map(([raw]) => tokenOf('NIN', raw)));
    const mismatching = activeBvns.filter(
      ([, l]) => l.holderNin !== null && !ninTokens.has(tokenOf('NIN', l.holderNin)),
    );
    if (mismatching.length > 0) {
      const since = latest([
        ...mismatching.map(([, l]) => l.linkDate),
        ...activeNins.map(([, l]) => l.linkDate),
      ]);
      conflicts.push({ code: 'NIN_BVN_MISMATCH', since });
    }
  }
  if (telecomStatus === 'BLACKLISTED' && activeNins.length + activeBvns.length > 0 && facts.latestStatus) {
    conflicts.push({ code: 'BLACKLISTED_WITH_LINKAGES', since: facts.latestStatus.day });
  }

  let cleanupStatus: CleanupStatus = 'not_required';
  if (isRecycled) {
    if (!stale) cleanupStatus = 'completed';
    else cleanupStatus = facts.openDelink?.action === 'APPROVED' ? 'in_progress' : 'pending';
  }

  let lifecycleStatus: LifecycleStatus = 'ACTIVE';
  if (telecomStatus === 'BLACKLISTED') lifecycleStatus = 'BLOCKED';
  else if (conflicts.some((c) => c.code !== 'STALE_LINKAGE')) lifecycleStatus = 'CONFLICTED';
  else if (stale) lifecycleStatus = 'RECYCLED';
  else if (isRecycled && telecomStatus === 'CHURNED') lifecycleStatus = 'AVAILABLE';

  return {
    msisdn,
    operator: facts.operator,
    telecomStatus,
    statusDate: facts.latestStatus?.day ?? null,
    reassignmentDate: facts.latestStatus?.reassignmentDate ?? null,
    lastSwappedDate: facts.lastDate.SWAPPED ?? null,
    lastChurnedDate: facts.lastDate.CHURNED ?? null,
    lastReassignedDate: facts.lastDate.REASSIGNED ?? null,
    activeNinTokens: activeNins.map(([raw]) => tokenOf('NIN', raw)).sort(),
    activeBvnTokens: activeBvns.map(([raw]) => tokenOf('BVN', raw)).sort(),
    lifecycleStatus,
    isRecycled,
    activeNinLinkages: activeNins.length,
    activeBvnLinkages: activeBvns.length,
    cleanupStatus,
    canAssignToNewUser: isRecycled && !stale && telecomStatus !== 'BLACKLISTED',
    conflicts,
    openDelink: facts.openDelink,
    deliveries,
  };
}

/** Greatest of YYYY-MM-DD dates (they sort as strings; Math.max would need numbers). */
function latest(dates: readonly string[]): string {
  const sorted = [...dates].sort();
  const last = sorted[sorted.length - 1];
  if (last === undefined) throw new Error('latest() of no dates');
  return last;
}

/** The expected final state of every number, in population order. */
export function expectedState(population: Population): ExpectedState[] {
  const tokens = tokenCache(population.options.tokenSecret);
  return population.numbers.map((n) => expectedStateOf(n, tokens));
}

export function expectedStateOf(
  number: SampleNumber,
  tokenOf: (kind: 'NIN' | 'BVN', raw: string) => string,
): ExpectedState {
  return deriveState(number.msisdn, truthFacts(number), tokenOf, number.arrival.length);
}
