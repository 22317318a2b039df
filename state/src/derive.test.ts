import { eventsOf, generatePopulation, type SampleEvent } from '@hub/dev-tools/sample/index';
import {
  allocatedOperator,
  type DelinkEvent,
  type DelinkScope,
  dateToDays,
  daysToDate,
  TELECOM_STATUSES,
} from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import {
  type CleanupStatus,
  type Conflict,
  deriveSummary,
  deriveView,
  isOld,
  type LifecycleStatus,
  linkagesOf,
  recycleDateOf,
  type StateSummary,
} from './derive.ts';
import { applyEvent } from './machine.ts';
import { mulberry32 } from './random.ts';
import { emptyRecord, type StateEvent, type StateRecord } from './record.ts';

const later = (a: string, b: string) => (a > b ? a : b);

/**
 * The derivation rules stated plainly over the view's linkage lists (linkagesOf): the reference
 * deriveSummary's loops over the stored linkages must agree with.
 */
function referenceSummary(msisdn: string, r: StateRecord): StateSummary {
  const recycleDate = recycleDateOf(r);
  const isRecycled = recycleDate !== null;
  const links = linkagesOf(r);
  const activeNin = links.nin.filter((l) => l.clearedDate === null);
  const activeBvn = links.bvn.filter((l) => l.clearedDate === null);
  const hasStale = [...activeNin, ...activeBvn].some((l) => isOld(l, recycleDate));
  const conflicts: Conflict[] = [];
  if (hasStale && recycleDate !== null) conflicts.push({ code: 'STALE_LINKAGE', since: recycleDate });
  if (activeNin.length >= 2)
    conflicts.push({
      code: 'MULTIPLE_ACTIVE_NIN',
      since: activeNin.reduce((m, l) => later(m, l.linkDate), ''),
    });
  const ninTokens = new Set(activeNin.map((l) => l.token));
  const mismatching = activeBvn.filter((b) => b.holderNinToken !== null && !ninTokens.has(b.holderNinToken));
  if (activeNin.length > 0 && mismatching.length > 0) {
    const since = [...mismatching, ...activeNin].reduce((m, l) => later(m, l.linkDate), '');
    conflicts.push({ code: 'NIN_BVN_MISMATCH', since });
  }
  if (r.telecomStatus === 'BLACKLISTED' && activeNin.length + activeBvn.length > 0 && r.statusDate !== null)
    conflicts.push({ code: 'BLACKLISTED_WITH_LINKAGES', since: r.statusDate });
  const cleanupStatus: CleanupStatus = !isRecycled
    ? 'not_required'
    : !hasStale
      ? 'completed'
      : r.openDelink?.action === 'APPROVED'
        ? 'in_progress'
        : 'pending';
  const lifecycleStatus: LifecycleStatus =
    r.telecomStatus === 'BLACKLISTED'
      ? 'BLOCKED'
      : conflicts.some((c) => c.code !== 'STALE_LINKAGE')
        ? 'CONFLICTED'
        : hasStale
          ? 'RECYCLED'
          : isRecycled && r.telecomStatus === 'CHURNED'
            ? 'AVAILABLE'
            : 'ACTIVE';
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
    activeNinLinkages: activeNin.length,
    activeBvnLinkages: activeBvn.length,
    conflicts,
    cleanupStatus,
    canAssignToNewUser: isRecycled && !hasStale && r.telecomStatus !== 'BLACKLISTED',
    lifecycleStatus,
    openDelink: r.openDelink,
    droppedNinLinkages: r.droppedLinkages.nin,
    droppedBvnLinkages: r.droppedLinkages.bvn,
  };
}

/** Every record a random stream over few tokens and dates builds: conflicts of every kind, delinks, unlinks. */
function randomRecords(seed: number, length: number): StateRecord[] {
  const r = mulberry32(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const base = dateToDays('2015-01-01');
  const date = () => daysToDate(base + int(r() < 0.5 ? 40 : 4000));
  const tokens = Array.from({ length: 5 }, (_, i) => (i * 0x1111 + 0xabc).toString(16).padStart(16, '0'));
  const env = () => ({
    eventId: `e${int(1e6)}`,
    source: 'KAFKA',
    occurredAt: Date.UTC(2015, 0, 1) + int(3.5e11),
    receivedAt: Date.UTC(2026, 0, 1),
  });
  const msisdn = '2348031234567';
  const actions: DelinkEvent['action'][] = ['REQUESTED', 'APPROVED', 'REJECTED', 'COMPLETED', 'COMPLETED'];
  const scopes: DelinkScope[] = ['ALL', 'NIN', 'BVN'];
  let record = emptyRecord();
  const out: StateRecord[] = [];
  for (let i = 0; i < length; i++) {
    const k = int(4);
    let ev: StateEvent;
    if (k === 0) {
      const status = pick(TELECOM_STATUSES);
      ev = {
        input: 'status',
        event: {
          ...env(),
          operator: r() < 0.5 ? 'MTN' : 'GLO',
          msisdn,
          status,
          occurrenceDate: date(),
          reassignmentDate: null,
          remarks: null,
          batchId: null,
        },
      };
    } else if (k === 1) {
      ev = {
        input: 'nin',
        event: {
          ...env(),
          msisdn,
          action: r() < 0.75 ? 'LINK' : 'UNLINK',
          ninToken: pick(tokens),
          ninMasked: '*******1234',
          linkDate: date(),
        },
      };
    } else if (k === 2) {
      ev = {
        input: 'bvn',
        event: {
          ...env(),
          msisdn,
          action: r() < 0.75 ? 'LINK' : 'UNLINK',
          bvnToken: pick(tokens),
          bvnMasked: '*******1234',
          holderNinToken: r() < 0.6 ? pick(tokens) : null,
          nubanToken: null,
          nubanMasked: null,
          bankCode: null,
          linkDate: date(),
        },
      };
    } else {
      ev = {
        input: 'delink',
        event: {
          ...env(),
          msisdn,
          requestId: `req-${int(3)}`,
          action: pick(actions),
          scope: pick(scopes),
          actor: 'ops',
          reason: null,
        } as DelinkEvent,
      };
    }
    const o = applyEvent(record, ev, BigInt(i));
    if (o.status === 'applied') {
      record = o.record;
      out.push(record);
    }
    // Now and then a new owner's story starts over.
    if (r() < 0.02) record = emptyRecord();
  }
  return out;
}

function sampleEventOf(e: SampleEvent): StateEvent {
  switch (e.kind) {
    case 'status-update':
      return { input: 'status', event: e.value };
    case 'nin-linkage':
      return { input: 'nin', event: e.value };
    case 'bvn-linkage':
      return { input: 'bvn', event: e.value };
    case 'delink':
      return { input: 'delink', event: e.value };
  }
}

describe('deriveSummary', () => {
  it('agrees with the rules stated over the linkage lists, for every record of random streams', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      for (const record of randomRecords(seed, 400)) {
        const summary = deriveSummary('2348031234567', record);
        expect(summary).toEqual(referenceSummary('2348031234567', record));
        for (const c of summary.conflicts) seen.add(c.code);
        seen.add(summary.lifecycleStatus);
        seen.add(summary.cleanupStatus);
      }
    }
    // The streams reached every conflict, lifecycle and cleanup status.
    expect([...seen].sort()).toEqual(
      [
        'STALE_LINKAGE',
        'MULTIPLE_ACTIVE_NIN',
        'NIN_BVN_MISMATCH',
        'BLACKLISTED_WITH_LINKAGES',
        'ACTIVE',
        'RECYCLED',
        'CONFLICTED',
        'BLOCKED',
        'AVAILABLE',
        'not_required',
        'pending',
        'in_progress',
        'completed',
      ].sort(),
    );
  });

  it('agrees with the rules stated over the linkage lists, for every record of the dev-tools sample, an empty one included', () => {
    const population = generatePopulation(
      { numbers: 3000, seed: 11, tokenSecret: 'derive-test', endDate: '2026-11-30' },
      Date.UTC(2026, 11, 1),
    );
    const records = new Map<string, StateRecord>();
    const offsets = new Map<string, bigint>();
    for (const e of eventsOf(population)) {
      const before = records.get(e.msisdn) ?? emptyRecord();
      const offset = (offsets.get(e.msisdn) ?? 0n) + 1n;
      offsets.set(e.msisdn, offset);
      const o = applyEvent(before, sampleEventOf(e), offset);
      if (o.status !== 'applied') continue;
      records.set(e.msisdn, o.record);
      expect(deriveSummary(e.msisdn, o.record)).toEqual(referenceSummary(e.msisdn, o.record));
    }
    expect(records.size).toBeGreaterThan(2000);
    expect(deriveSummary('2348031234567', emptyRecord())).toEqual(
      referenceSummary('2348031234567', emptyRecord()),
    );
  });
});

describe('deriveView', () => {
  it("is the summary and the linkage lists, in the view's field order", () => {
    for (const record of randomRecords(7, 200)) {
      const view = deriveView('2348031234567', record);
      const links = linkagesOf(record);
      const { droppedNinLinkages, droppedBvnLinkages, ...summary } = referenceSummary(
        '2348031234567',
        record,
      );
      const expected = {
        ...summary,
        ninLinkages: links.nin,
        bvnLinkages: links.bvn,
        droppedNinLinkages,
        droppedBvnLinkages,
      };
      expect(view).toEqual(expected);
      expect(Object.keys(view)).toEqual(Object.keys(expected));
    }
  });
});
