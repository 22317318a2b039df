import {
  type BvnLinkageEvent,
  type DelinkEvent,
  type DelinkScope,
  EVENT_TEXT_LIMIT,
  type NinLinkageEvent,
  type StatusUpdateEvent,
  type TelecomStatus,
} from '@hub/schemas';

/** The four input topics a record is built from; each record keeps its last applied offset per topic. */
export const INPUTS = ['status', 'nin', 'bvn', 'delink'] as const;
export type Input = (typeof INPUTS)[number];

/** A NIN linkage as the record stores it: one entry per token, per-token facts only. */
export interface StoredNinLink {
  /** 16 lowercase hex characters (64-bit keyed hash of the NIN). */
  token: string;
  /** Display form, e.g. `*******1234`. */
  masked: string;
  /** Date of the latest LINK of the token. */
  linkDate: string;
  /** The date of the UNLINK that followed the latest LINK, or null. Delink clearing is not stored here. */
  unlinkedDate: string | null;
}

export interface StoredBvnLink extends StoredNinLink {
  /** Token of the NIN behind the BVN, when NIBSS knows it. */
  holderNinToken: string | null;
}

/** A linkage as the view shows it (docs/state-model.md): cleared by UNLINK or by a completed delink. */
export interface NinLink {
  /** 16 lowercase hex characters (64-bit keyed hash of the NIN). */
  token: string;
  /** Display form, e.g. `*******1234`. */
  masked: string;
  linkDate: string;
  /** Null while active; the earliest of the UNLINK's date and the clearing COMPLETED delink's date. */
  clearedDate: string | null;
}

export interface BvnLink extends NinLink {
  /** Token of the NIN behind the BVN, when NIBSS knows it. */
  holderNinToken: string | null;
}

/** A COMPLETED delink: its occurrence date (Lagos calendar) and scope. */
export interface CompletedDelink {
  date: string;
  scope: DelinkScope;
}

/** Scopes in the order the record sorts completed delinks of the same date. */
export const DELINK_SCOPES: readonly DelinkScope[] = ['ALL', 'NIN', 'BVN'];

/** How many recycle dates, and completed delinks per scope, a record keeps (the most recent ones). */
export const HISTORY_LIMIT = 8;

/**
 * How many linkages of each kind (NIN, BVN) a record keeps. A number with more (a flood, a feed
 * replaying one number) keeps the LINKAGE_LIMIT most relevant ones (see `withLinkage`) and counts
 * the others in `droppedLinkages`; every linkage event stays in ClickHouse. This is what bounds a
 * record: 691 bytes with every list, count and text at its limit, whatever one number receives; a
 * number flooded with NIN links stays ~115 bytes, within Redis's 128-byte listpack value.
 */
export const LINKAGE_LIMIT = 8;

/**
 * Longest operator code or delink request id the record stores, in characters (UTF-16 units): the
 * validation contract's limit, so every event the contract accepts is storable.
 */
export const TEXT_LIMIT = EVENT_TEXT_LIMIT;

/** Highest per-topic offset a record stores: Kafka offsets are signed 64-bit. */
export const OFFSET_MAX = 2n ** 63n - 1n;

export type OpenDelinkAction = 'REQUESTED' | 'APPROVED';

export interface OpenDelink {
  requestId: string;
  action: OpenDelinkAction;
}

/** Stored facts of one MSISDN (docs/state-model.md, "Stored facts"). The MSISDN itself is the key. */
export interface StateRecord {
  /** Number of applied events. */
  version: number;
  /** Operator of the newest applied status event; null before any (the view falls back to the prefix's). */
  operator: string | null;
  telecomStatus: TelecomStatus | null;
  statusDate: string | null;
  reassignmentDate: string | null;
  lastSwappedDate: string | null;
  lastChurnedDate: string | null;
  lastReassignedDate: string | null;
  /**
   * Distinct occurrence dates of CHURNED and REASSIGNED events, ascending; the most recent
   * HISTORY_LIMIT only. Its last element is max(lastChurnedDate, lastReassignedDate).
   */
  recycleDates: string[];
  /** At most LINKAGE_LIMIT, distinct tokens, in the order tokens were first linked (see withLinkage). */
  nin: StoredNinLink[];
  bvn: StoredBvnLink[];
  /**
   * Linkage entries dropped from `nin` / `bvn` to keep them within LINKAGE_LIMIT (a token dropped
   * and linked again counts again). Non-zero means the record lists only part of the number's
   * linkages: the full history is in ClickHouse.
   */
  droppedLinkages: { nin: number; bvn: number };
  /**
   * Distinct completed delinks, by date then scope (DELINK_SCOPES order); the most recent
   * HISTORY_LIMIT per scope only.
   */
  completedDelinks: CompletedDelink[];
  openDelink: OpenDelink | null;
  /** Per input topic, the offset of the last event from it applied here. */
  offsets: Record<Input, bigint | null>;
}

export type StateEvent =
  | { input: 'status'; event: StatusUpdateEvent }
  | { input: 'nin'; event: NinLinkageEvent }
  | { input: 'bvn'; event: BvnLinkageEvent }
  | { input: 'delink'; event: DelinkEvent };

export function emptyRecord(): StateRecord {
  return {
    version: 0,
    operator: null,
    telecomStatus: null,
    statusDate: null,
    reassignmentDate: null,
    lastSwappedDate: null,
    lastChurnedDate: null,
    lastReassignedDate: null,
    recycleDates: [],
    nin: [],
    bvn: [],
    droppedLinkages: { nin: 0, bvn: 0 },
    completedDelinks: [],
    openDelink: null,
    offsets: { status: null, nin: null, bvn: null, delink: null },
  };
}

/** A deep copy (no object or array shared with `r`). Written out field by field: spreading is slow in V8. */
export function cloneRecord(r: StateRecord): StateRecord {
  const next = nextVersionOf(r);
  next.recycleDates = r.recycleDates.slice();
  next.nin = r.nin.map(copyNinLink);
  next.bvn = r.bvn.map(copyBvnLink);
  next.droppedLinkages = { nin: r.droppedLinkages.nin, bvn: r.droppedLinkages.bvn };
  next.completedDelinks = r.completedDelinks.map((d) => ({ date: d.date, scope: d.scope }));
  next.openDelink = r.openDelink ? { requestId: r.openDelink.requestId, action: r.openDelink.action } : null;
  return next;
}

/**
 * A copy of `r` that shares its lists and nested objects but has its own `offsets`: the start of
 * the next version of a record (copy-on-write). Whoever changes a shared list or nested object of
 * the copy replaces it instead of modifying it, so `r` stays as it was.
 */
export function nextVersionOf(r: StateRecord): StateRecord {
  const o = r.offsets;
  return {
    version: r.version,
    operator: r.operator,
    telecomStatus: r.telecomStatus,
    statusDate: r.statusDate,
    reassignmentDate: r.reassignmentDate,
    lastSwappedDate: r.lastSwappedDate,
    lastChurnedDate: r.lastChurnedDate,
    lastReassignedDate: r.lastReassignedDate,
    recycleDates: r.recycleDates,
    nin: r.nin,
    bvn: r.bvn,
    droppedLinkages: r.droppedLinkages,
    completedDelinks: r.completedDelinks,
    openDelink: r.openDelink,
    offsets: { status: o.status, nin: o.nin, bvn: o.bvn, delink: o.delink },
  };
}

function copyNinLink(l: StoredNinLink): StoredNinLink {
  return { token: l.token, masked: l.masked, linkDate: l.linkDate, unlinkedDate: l.unlinkedDate };
}

function copyBvnLink(l: StoredBvnLink): StoredBvnLink {
  return {
    token: l.token,
    masked: l.masked,
    holderNinToken: l.holderNinToken,
    linkDate: l.linkDate,
    unlinkedDate: l.unlinkedDate,
  };
}

/** `dates` (ascending, distinct) with `date` added, keeping the most recent HISTORY_LIMIT. */
export function withRecycleDate(dates: readonly string[], date: string): string[] {
  if (dates.includes(date)) return [...dates];
  return [...dates, date].sort().slice(-HISTORY_LIMIT);
}

function compareDelinks(a: CompletedDelink, b: CompletedDelink): number {
  if (a.date !== b.date) return a.date < b.date ? -1 : 1;
  return DELINK_SCOPES.indexOf(a.scope) - DELINK_SCOPES.indexOf(b.scope);
}

/** `delinks` (sorted, distinct) with `d` added, keeping the most recent HISTORY_LIMIT per scope. */
export function withCompletedDelink(
  delinks: readonly CompletedDelink[],
  d: CompletedDelink,
): CompletedDelink[] {
  if (delinks.some((x) => x.date === d.date && x.scope === d.scope)) return delinks.map((x) => ({ ...x }));
  const all = [...delinks.map((x) => ({ ...x })), { ...d }].sort(compareDelinks);
  const sameScope = all.filter((x) => x.scope === d.scope);
  if (sameScope.length <= HISTORY_LIMIT) return all;
  const dropped = sameScope[0];
  return all.filter((x) => x !== dropped);
}

/**
 * `links` with a newly linked token `added` (not yet among them), kept within LINKAGE_LIMIT: when
 * full, one entry of the list plus the new one is dropped: the unlinked one with the earliest link
 * date if any is unlinked (it no longer counts for anything but display), else the one with the
 * earliest link date (the one most likely cleared by a delink since); ties go to the earlier in the
 * list, the new entry being last. Depends only on the linkage topic's own events, so the record
 * stays independent of how the topics interleave. Returns the list and whether an entry was dropped.
 */
export function withLinkage<L extends StoredNinLink>(
  links: readonly L[],
  added: L,
): { links: L[]; dropped: boolean } {
  const all = [...links, added];
  if (all.length <= LINKAGE_LIMIT) return { links: all, dropped: false };
  let victim = -1;
  for (let i = 0; i < all.length; i++) {
    const l = all[i]!;
    const v = victim === -1 ? null : all[victim]!;
    if (
      v === null ||
      (l.unlinkedDate !== null && v.unlinkedDate === null) ||
      ((l.unlinkedDate === null) === (v.unlinkedDate === null) && l.linkDate < v.linkDate)
    ) {
      victim = i;
    }
  }
  return { links: all.filter((_, i) => i !== victim), dropped: true };
}
