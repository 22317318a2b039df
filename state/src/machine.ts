import {
  type BvnLinkageEvent,
  checkFactEvent,
  type DelinkEvent,
  describeProblem,
  type FactEvent,
  type NinLinkageEvent,
  type StatusUpdateEvent,
  todayInLagos,
} from '@hub/schemas';
import {
  nextVersionOf,
  type StateEvent,
  type StateRecord,
  withCompletedDelink,
  withLinkage,
  withRecycleDate,
} from './record.ts';

/**
 * Dates are stored as uint16 days since this epoch, so only this range is representable; the
 * validation contract (EVENT_DATE_MIN..EVENT_DATE_MAX) lies within it.
 */
export const DATE_EPOCH = '1990-01-01';
export const DATE_MAX = '2169-06-06';

export type ApplyOutcome =
  | { status: 'applied'; record: StateRecord }
  | { status: 'skipped' }
  | { status: 'invalid'; reason: string };

/**
 * Applies one event, read at `offset` of its input topic, to a record (docs/state-model.md).
 * Returns a new record; the input is not modified. The new record shares the lists and nested
 * objects this event does not change with the input (copy-on-write): records are never modified in
 * place once built, here or by a caller. An event at or below the offset the record
 * already holds for that topic is `skipped` (a redelivery after a crash), which makes replay safe.
 *
 * Each event touches only facts of its own topic, and every fact is either a per-topic "latest"
 * or an order-free set/max, so the record does not depend on how the four topics interleave.
 */
export function applyEvent(record: StateRecord, ev: StateEvent, offset: bigint): ApplyOutcome {
  const last = record.offsets[ev.input];
  if (last !== null && offset <= last) return { status: 'skipped' };
  const problem = validate(ev);
  if (problem) return { status: 'invalid', reason: problem };
  const next = nextVersionOf(record);
  switch (ev.input) {
    case 'status':
      applyStatus(next, ev.event);
      break;
    case 'nin':
      applyNin(next, ev.event);
      break;
    case 'bvn':
      applyBvn(next, ev.event);
      break;
    case 'delink':
      applyDelink(next, ev.event);
      break;
  }
  next.version += 1;
  next.offsets[ev.input] = offset;
  return { status: 'applied', record: next };
}

function maxDate(a: string | null, b: string): string {
  return a === null || b > a ? b : a;
}

function applyStatus(r: StateRecord, e: StatusUpdateEvent): void {
  const date = e.occurrenceDate;
  if (e.status === 'SWAPPED') r.lastSwappedDate = maxDate(r.lastSwappedDate, date);
  if (e.status === 'CHURNED') r.lastChurnedDate = maxDate(r.lastChurnedDate, date);
  if (e.status === 'REASSIGNED') r.lastReassignedDate = maxDate(r.lastReassignedDate, date);
  if (e.status === 'CHURNED' || e.status === 'REASSIGNED')
    r.recycleDates = withRecycleDate(r.recycleDates, date);
  // A late event (older than the current status) only feeds the recency fields; same date replaces.
  if (r.statusDate !== null && date < r.statusDate) return;
  r.telecomStatus = e.status;
  r.statusDate = date;
  r.reassignmentDate = e.reassignmentDate;
  r.operator = e.operator;
}

function applyNin(r: StateRecord, e: NinLinkageEvent): void {
  const i = indexOfToken(r.nin, e.ninToken);
  if (e.action === 'LINK') {
    if (i !== -1) {
      const nin = r.nin.slice();
      nin[i] = { token: nin[i]!.token, masked: e.ninMasked, linkDate: e.linkDate, unlinkedDate: null };
      r.nin = nin;
    } else {
      const added = withLinkage(r.nin, {
        token: e.ninToken,
        masked: e.ninMasked,
        linkDate: e.linkDate,
        unlinkedDate: null,
      });
      r.nin = added.links;
      if (added.dropped) r.droppedLinkages = { nin: r.droppedLinkages.nin + 1, bvn: r.droppedLinkages.bvn };
    }
  } else if (i !== -1) {
    const nin = r.nin.slice();
    const l = nin[i]!;
    nin[i] = { token: l.token, masked: l.masked, linkDate: l.linkDate, unlinkedDate: e.linkDate };
    r.nin = nin;
  }
}

function applyBvn(r: StateRecord, e: BvnLinkageEvent): void {
  const i = indexOfToken(r.bvn, e.bvnToken);
  if (e.action === 'LINK') {
    if (i !== -1) {
      const bvn = r.bvn.slice();
      bvn[i] = {
        token: bvn[i]!.token,
        masked: e.bvnMasked,
        holderNinToken: e.holderNinToken,
        linkDate: e.linkDate,
        unlinkedDate: null,
      };
      r.bvn = bvn;
    } else {
      const added = withLinkage(r.bvn, {
        token: e.bvnToken,
        masked: e.bvnMasked,
        holderNinToken: e.holderNinToken,
        linkDate: e.linkDate,
        unlinkedDate: null,
      });
      r.bvn = added.links;
      if (added.dropped) r.droppedLinkages = { nin: r.droppedLinkages.nin, bvn: r.droppedLinkages.bvn + 1 };
    }
  } else if (i !== -1) {
    const bvn = r.bvn.slice();
    const l = bvn[i]!;
    bvn[i] = {
      token: l.token,
      masked: l.masked,
      holderNinToken: l.holderNinToken,
      linkDate: l.linkDate,
      unlinkedDate: e.linkDate,
    };
    r.bvn = bvn;
  }
}

function indexOfToken(links: readonly { token: string }[], token: string): number {
  for (let i = 0; i < links.length; i++) if (links[i]!.token === token) return i;
  return -1;
}

function applyDelink(r: StateRecord, e: DelinkEvent): void {
  switch (e.action) {
    case 'REQUESTED':
    case 'APPROVED':
      r.openDelink = { requestId: e.requestId, action: e.action };
      return;
    case 'REJECTED':
    case 'CANCELLED':
      if (r.openDelink?.requestId === e.requestId) r.openDelink = null;
      return;
    // Delink v2 (docs/delink-workflow.md): a failed attempt leaves the request open but no longer in
    // progress; a retry puts it back in progress. PROCESSING and DISPATCHED change nothing here.
    case 'FAILED':
      if (r.openDelink?.requestId === e.requestId)
        r.openDelink = { requestId: e.requestId, action: 'REQUESTED' };
      return;
    case 'RETRIED':
      r.openDelink = { requestId: e.requestId, action: 'APPROVED' };
      return;
    case 'PROCESSING':
    case 'DISPATCHED':
      return;
    case 'COMPLETED': {
      // Only the fact is stored (its occurrence date on the Nigerian calendar, like every other date
      // in the record, and its scope); which linkages it clears is derived when the record is read.
      r.completedDelinks = withCompletedDelink(r.completedDelinks, {
        date: todayInLagos(e.occurredAt),
        scope: e.scope,
      });
      if (r.openDelink?.requestId === e.requestId) r.openDelink = null;
      return;
    }
  }
}

/**
 * Why an event cannot be applied, or null: the hub's one validation contract
 * (schemas/src/contract.ts), which ingest applies to what it acknowledges. The reason names the
 * field and the bad value.
 */
export function validate(ev: StateEvent): string | null {
  const p = checkFactEvent(factOf(ev));
  return p === null ? null : describeProblem(p);
}

function factOf(ev: StateEvent): FactEvent {
  switch (ev.input) {
    case 'status':
      return { kind: 'status-update', event: ev.event };
    case 'nin':
      return { kind: 'nin-linkage', event: ev.event };
    case 'bvn':
      return { kind: 'bvn-linkage', event: ev.event };
    case 'delink':
      return { kind: 'delink', event: ev.event };
  }
}
