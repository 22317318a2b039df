import type {
  BvnLinkageEvent,
  DelinkAction,
  DelinkEvent,
  DelinkScope,
  NinLinkageEvent,
  StatusUpdateEvent,
  TelecomStatus,
} from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { deriveView } from './derive.ts';
import { decodeState, encodeState } from './encoding.ts';
import { applyEvent } from './machine.ts';
import { emptyRecord, LINKAGE_LIMIT, type StateEvent, type StateRecord } from './record.ts';

const MSISDN = '2348031234567';
const NIN_A = 'aaaaaaaaaaaaaaaa';
const NIN_B = 'bbbbbbbbbbbbbbbb';
const BVN_X = 'cccccccccccccccc';
const BVN_Y = 'dddddddddddddddd';

const envelope = {
  eventId: 'e',
  source: 'KAFKA',
  occurredAt: Date.UTC(2024, 0, 1),
  receivedAt: Date.UTC(2024, 0, 1),
};

function status(s: TelecomStatus, date: string, extra: Partial<StatusUpdateEvent> = {}): StateEvent {
  return {
    input: 'status',
    event: {
      ...envelope,
      operator: 'MTN',
      msisdn: MSISDN,
      status: s,
      occurrenceDate: date,
      reassignmentDate: null,
      remarks: null,
      batchId: null,
      ...extra,
    },
  };
}

function nin(action: 'LINK' | 'UNLINK', token: string, date: string, masked = '*******1234'): StateEvent {
  const event: NinLinkageEvent = {
    ...envelope,
    msisdn: MSISDN,
    action,
    ninToken: token,
    ninMasked: masked,
    linkDate: date,
  };
  return { input: 'nin', event };
}

function bvn(
  action: 'LINK' | 'UNLINK',
  token: string,
  date: string,
  holder: string | null = null,
): StateEvent {
  const event: BvnLinkageEvent = {
    ...envelope,
    msisdn: MSISDN,
    action,
    bvnToken: token,
    bvnMasked: '*******9876',
    holderNinToken: holder,
    nubanToken: null,
    nubanMasked: null,
    bankCode: null,
    linkDate: date,
  };
  return { input: 'bvn', event };
}

function delink(action: DelinkAction, scope: DelinkScope, date: string, requestId = 'req-1'): StateEvent {
  const event: DelinkEvent = {
    ...envelope,
    occurredAt: Date.parse(`${date}T09:00:00Z`),
    requestId,
    msisdn: MSISDN,
    action,
    scope,
    actor: 'admin',
    reason: null,
  };
  return { input: 'delink', event };
}

/** Applies events in order, each at the next offset of its own topic. */
function run(events: StateEvent[], start: StateRecord = emptyRecord()): StateRecord {
  const offsets = new Map<string, bigint>();
  let r = start;
  for (const ev of events) {
    const offset = (offsets.get(ev.input) ?? r.offsets[ev.input] ?? -1n) + 1n;
    offsets.set(ev.input, offset);
    const out = applyEvent(r, ev, offset);
    if (out.status !== 'applied') throw new Error(`event not applied: ${JSON.stringify(out)}`);
    r = out.record;
  }
  return r;
}

const view = (events: StateEvent[]) => deriveView(MSISDN, run(events));

describe('state machine: status events', () => {
  it('takes the newest status, its date, reassignment date and operator', () => {
    const v = view([
      status('NORMAL', '2024-01-01'),
      status('REASSIGNED', '2024-03-01', { reassignmentDate: '2024-02-28', operator: 'AIRTEL' }),
    ]);
    expect(v.telecomStatus).toBe('REASSIGNED');
    expect(v.statusDate).toBe('2024-03-01');
    expect(v.reassignmentDate).toBe('2024-02-28');
    expect(v.operator).toBe('AIRTEL');
    expect(v.version).toBe(2);
  });

  it('falls back to the allocated operator of the prefix before any status event', () => {
    expect(view([nin('LINK', NIN_A, '2024-01-01')]).operator).toBe('MTN');
    expect(deriveView(MSISDN, emptyRecord()).operator).toBe('MTN');
  });

  it('keeps a newer status when a late, older event arrives, but records its recency date', () => {
    const v = view([status('NORMAL', '2024-05-01', { operator: 'GLO' }), status('SWAPPED', '2024-04-01')]);
    expect(v.telecomStatus).toBe('NORMAL');
    expect(v.statusDate).toBe('2024-05-01');
    expect(v.operator).toBe('GLO');
    expect(v.lastSwappedDate).toBe('2024-04-01');
    expect(v.version).toBe(2);
  });

  it('lets a later arrival with the same date replace the status', () => {
    const v = view([status('SWAPPED', '2024-05-01'), status('NORMAL', '2024-05-01', { operator: 'GLO' })]);
    expect(v.telecomStatus).toBe('NORMAL');
    expect(v.operator).toBe('GLO');
    expect(v.lastSwappedDate).toBe('2024-05-01');
  });

  it('keeps the greatest recency dates whatever the arrival order', () => {
    const v = view([
      status('CHURNED', '2024-06-01'),
      status('CHURNED', '2023-01-01'),
      status('REASSIGNED', '2024-07-01'),
      status('REASSIGNED', '2022-01-01'),
      status('SWAPPED', '2021-01-01'),
    ]);
    expect(v.lastChurnedDate).toBe('2024-06-01');
    expect(v.lastReassignedDate).toBe('2024-07-01');
    expect(v.lastSwappedDate).toBe('2021-01-01');
    expect(v.recycleDate).toBe('2024-07-01');
    expect(v.telecomStatus).toBe('REASSIGNED');
  });

  it('clears the reassignment date when the newer status event has none', () => {
    const v = view([
      status('REASSIGNED', '2024-01-01', { reassignmentDate: '2024-01-01' }),
      status('NORMAL', '2024-02-01'),
    ]);
    expect(v.reassignmentDate).toBeNull();
  });
});

describe('state machine: offsets and duplicates', () => {
  it('skips an event at or below the offset already applied for its topic', () => {
    const r = run([status('NORMAL', '2024-01-01')]);
    expect(r.offsets.status).toBe(0n);
    expect(applyEvent(r, status('CHURNED', '2024-02-01'), 0n)).toEqual({ status: 'skipped' });
    // A different topic's offsets are independent.
    expect(applyEvent(r, nin('LINK', NIN_A, '2024-01-01'), 0n).status).toBe('applied');
  });

  it('re-applies a duplicate event with a new offset without changing derived facts, counting it in version', () => {
    const events = [status('CHURNED', '2024-01-01'), nin('LINK', NIN_A, '2023-01-01')];
    const once = run(events);
    const twice = run([...events, nin('LINK', NIN_A, '2023-01-01'), status('CHURNED', '2024-01-01')]);
    const a = deriveView(MSISDN, once);
    const b = deriveView(MSISDN, twice);
    expect(b.version).toBe(a.version + 2);
    expect({ ...b, version: 0 }).toEqual({ ...a, version: 0 });
  });

  it('does not modify the record it was given', () => {
    const r = run([nin('LINK', NIN_A, '2024-01-01')]);
    const copy = structuredClone(r);
    applyEvent(r, nin('UNLINK', NIN_A, '2024-02-01'), 5n);
    expect(r).toEqual(copy);
  });
});

describe('state machine: linkages', () => {
  it('counts active linkages and clears one on UNLINK with the unlink date', () => {
    const r = run([
      nin('LINK', NIN_A, '2024-01-01'),
      bvn('LINK', BVN_X, '2024-01-02'),
      nin('UNLINK', NIN_A, '2024-03-01'),
    ]);
    const v = deriveView(MSISDN, r);
    expect(v.activeNinLinkages).toBe(0);
    expect(v.activeBvnLinkages).toBe(1);
    expect(r.nin).toEqual([
      { token: NIN_A, masked: '*******1234', linkDate: '2024-01-01', unlinkedDate: '2024-03-01' },
    ]);
    expect(v.ninLinkages).toEqual([
      { token: NIN_A, masked: '*******1234', linkDate: '2024-01-01', clearedDate: '2024-03-01' },
    ]);
  });

  it('re-activates a known token on LINK with the new link date and mask', () => {
    const r = run([
      nin('LINK', NIN_A, '2024-01-01'),
      nin('UNLINK', NIN_A, '2024-02-01'),
      nin('LINK', NIN_A, '2024-04-01', '*******5555'),
    ]);
    expect(r.nin).toEqual([
      { token: NIN_A, masked: '*******5555', linkDate: '2024-04-01', unlinkedDate: null },
    ]);
  });

  it('ignores an UNLINK of an unknown token except for version and offset', () => {
    const before = run([nin('LINK', NIN_A, '2024-01-01')]);
    const after = run([nin('UNLINK', NIN_B, '2024-02-01')], before);
    expect(after.nin).toEqual(before.nin);
    expect(after.version).toBe(2);
    expect(after.offsets.nin).toBe(1n);
  });

  it('reports two active NINs since the later link date', () => {
    const v = view([nin('LINK', NIN_A, '2024-01-01'), nin('LINK', NIN_B, '2024-02-01')]);
    expect(v.conflicts).toEqual([{ code: 'MULTIPLE_ACTIVE_NIN', since: '2024-02-01' }]);
    expect(v.lifecycleStatus).toBe('CONFLICTED');
  });

  it('reports a NIN/BVN mismatch when the BVN holder NIN is not an active NIN', () => {
    const v = view([nin('LINK', NIN_A, '2024-01-05'), bvn('LINK', BVN_X, '2024-02-01', NIN_B)]);
    expect(v.conflicts).toEqual([{ code: 'NIN_BVN_MISMATCH', since: '2024-02-01' }]);
    expect(v.lifecycleStatus).toBe('CONFLICTED');
  });

  it('takes the max link date over all mismatching pairs', () => {
    const v = view([
      nin('LINK', NIN_A, '2024-06-01'),
      bvn('LINK', BVN_X, '2024-02-01', NIN_B),
      bvn('LINK', BVN_Y, '2024-01-01', NIN_A),
    ]);
    expect(v.conflicts).toEqual([{ code: 'NIN_BVN_MISMATCH', since: '2024-06-01' }]);
  });

  it('sees no mismatch when sources agree, when the holder is unknown, or without an active NIN', () => {
    expect(
      view([nin('LINK', NIN_A, '2024-01-01'), bvn('LINK', BVN_X, '2024-01-01', NIN_A)]).conflicts,
    ).toEqual([]);
    expect(
      view([nin('LINK', NIN_A, '2024-01-01'), bvn('LINK', BVN_X, '2024-01-01', null)]).conflicts,
    ).toEqual([]);
    expect(view([bvn('LINK', BVN_X, '2024-01-01', NIN_B)]).conflicts).toEqual([]);
  });
});

describe('state machine: a bounded number of linkages per kind', () => {
  const token = (i: number) => i.toString(16).padStart(16, '0');
  const day = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);

  it('keeps LINKAGE_LIMIT of 10,050 NIN links to one number, counts the rest, and stays encodable', () => {
    const flood = Array.from({ length: 10_050 }, (_, i) => nin('LINK', token(i), day(i % 1500)));
    const r = run(flood);
    expect(r.version).toBe(10_050);
    expect(r.nin).toHaveLength(LINKAGE_LIMIT);
    expect(r.droppedLinkages).toEqual({ nin: 10_050 - LINKAGE_LIMIT, bvn: 0 });
    const bytes = encodeState(r);
    expect(bytes.length).toBeLessThan(140);
    expect(decodeState(bytes)).toEqual(r);
    // The most recent link dates are the ones kept.
    expect(r.nin.every((l) => l.linkDate >= day(1500 - LINKAGE_LIMIT))).toBe(true);
    const v = deriveView(MSISDN, r);
    expect(v.activeNinLinkages).toBe(LINKAGE_LIMIT);
    expect(v.droppedNinLinkages).toBe(10_050 - LINKAGE_LIMIT);
    expect(v.conflicts.map((c) => c.code)).toEqual(['MULTIPLE_ACTIVE_NIN']);
  });

  it('drops an unlinked linkage before an active one, then the earliest link date', () => {
    const full = Array.from({ length: LINKAGE_LIMIT }, (_, i) => nin('LINK', token(i), day(10 + i)));
    const r = run([...full, nin('UNLINK', token(5), day(30)), nin('LINK', token(100), day(40))]);
    expect(r.nin.map((l) => l.token)).not.toContain(token(5));
    expect(r.nin.map((l) => l.token)).toContain(token(0));
    const r2 = run([...full, nin('LINK', token(100), day(40))]);
    expect(r2.nin.map((l) => l.token)).not.toContain(token(0));
    expect(r2.nin.at(-1)?.token).toBe(token(100));
    // A late link older than every kept one is the one dropped: the list is unchanged.
    const r3 = run([...full, nin('LINK', token(101), day(0))]);
    expect(r3.nin).toEqual(run(full).nin);
    expect(r3.droppedLinkages.nin).toBe(1);
  });

  it('re-links a kept token in place, without dropping anything', () => {
    const full = Array.from({ length: LINKAGE_LIMIT }, (_, i) => nin('LINK', token(i), day(10 + i)));
    const r = run([...full, nin('LINK', token(3), day(50))]);
    expect(r.nin).toHaveLength(LINKAGE_LIMIT);
    expect(r.droppedLinkages.nin).toBe(0);
  });

  it('bounds BVN linkages the same way', () => {
    const flood = Array.from({ length: 50 }, (_, i) => bvn('LINK', token(i), day(i), token(i + 1)));
    const r = run(flood);
    expect(r.bvn).toHaveLength(LINKAGE_LIMIT);
    expect(r.droppedLinkages).toEqual({ nin: 0, bvn: 50 - LINKAGE_LIMIT });
    expect(decodeState(encodeState(r))).toEqual(r);
  });
});

describe('state machine: recycling and cleanup', () => {
  const recycled = [
    nin('LINK', NIN_A, '2020-01-01'),
    bvn('LINK', BVN_X, '2020-01-02', NIN_A),
    status('CHURNED', '2024-01-01'),
  ];

  it('marks old active linkages as stale after a churn: RECYCLED, cleanup pending', () => {
    const v = view(recycled);
    expect(v.isRecycled).toBe(true);
    expect(v.recycleDate).toBe('2024-01-01');
    expect(v.conflicts).toEqual([{ code: 'STALE_LINKAGE', since: '2024-01-01' }]);
    expect(v.lifecycleStatus).toBe('RECYCLED');
    expect(v.cleanupStatus).toBe('pending');
    expect(v.canAssignToNewUser).toBe(false);
  });

  it('treats a linkage made on the recycle date as the new owner’s, not stale', () => {
    const v = view([status('REASSIGNED', '2024-01-01'), nin('LINK', NIN_A, '2024-01-01')]);
    expect(v.conflicts).toEqual([]);
    expect(v.cleanupStatus).toBe('completed');
    expect(v.lifecycleStatus).toBe('ACTIVE');
    expect(v.canAssignToNewUser).toBe(true);
  });

  it('moves cleanup to in_progress when a delink is APPROVED, keeps pending when only REQUESTED', () => {
    expect(view([...recycled, delink('REQUESTED', 'ALL', '2024-01-05')]).cleanupStatus).toBe('pending');
    expect(view([...recycled, delink('APPROVED', 'ALL', '2024-01-06')]).cleanupStatus).toBe('in_progress');
    expect(
      view([...recycled, delink('APPROVED', 'ALL', '2024-01-06'), delink('REJECTED', 'ALL', '2024-01-07')])
        .cleanupStatus,
    ).toBe('pending');
  });

  it('a failed dispatch leaves the request open but pending; a retry puts it back in progress', () => {
    const approved = [...recycled, delink('APPROVED', 'ALL', '2024-01-06', 'r1')];
    expect(view([...approved, delink('PROCESSING', 'ALL', '2024-01-06', 'r1')]).cleanupStatus).toBe(
      'in_progress',
    );
    const failed = [...approved, delink('FAILED', 'ALL', '2024-01-07', 'r1')];
    expect(run(failed).openDelink).toEqual({ requestId: 'r1', action: 'REQUESTED' });
    expect(view(failed).cleanupStatus).toBe('pending');
    expect(view([...failed, delink('RETRIED', 'ALL', '2024-01-08', 'r1')]).cleanupStatus).toBe('in_progress');
    // Another request's failure leaves the open one alone.
    expect(run([...approved, delink('FAILED', 'ALL', '2024-01-07', 'r2')]).openDelink?.action).toBe(
      'APPROVED',
    );
  });

  it('keeps the open request when another request id is cancelled', () => {
    const r = run([
      ...recycled,
      delink('APPROVED', 'ALL', '2024-01-06', 'r1'),
      delink('CANCELLED', 'ALL', '2024-01-07', 'r2'),
    ]);
    expect(r.openDelink).toEqual({ requestId: 'r1', action: 'APPROVED' });
  });

  it('becomes AVAILABLE and assignable once a COMPLETED delink clears every old linkage', () => {
    const r = run([
      ...recycled,
      delink('APPROVED', 'ALL', '2024-01-06'),
      delink('COMPLETED', 'ALL', '2024-01-08'),
    ]);
    const v = deriveView(MSISDN, r);
    expect(v.conflicts).toEqual([]);
    expect(v.cleanupStatus).toBe('completed');
    expect(v.lifecycleStatus).toBe('AVAILABLE');
    expect(v.canAssignToNewUser).toBe(true);
    expect(v.activeNinLinkages).toBe(0);
    expect(v.ninLinkages[0]?.clearedDate).toBe('2024-01-08');
    expect(v.bvnLinkages[0]?.clearedDate).toBe('2024-01-08');
    // Stored as a fact; the linkages themselves are not rewritten.
    expect(r.completedDelinks).toEqual([{ date: '2024-01-08', scope: 'ALL' }]);
    expect(r.nin[0]?.unlinkedDate).toBeNull();
    expect(r.openDelink).toBeNull();
  });

  it('clears only the scope of the delink and never the new owner’s linkages', () => {
    const r = run([...recycled, nin('LINK', NIN_B, '2024-02-01'), delink('COMPLETED', 'NIN', '2024-02-02')]);
    const v = deriveView(MSISDN, r);
    expect(v.ninLinkages.map((l) => l.clearedDate)).toEqual(['2024-02-02', null]);
    expect(v.bvnLinkages.map((l) => l.clearedDate)).toEqual([null]);
    // The old BVN is still stale; its holder NIN_A is no longer among active NINs (NIN_B).
    expect(v.conflicts.map((c) => c.code)).toEqual(['STALE_LINKAGE', 'NIN_BVN_MISMATCH']);
    expect(v.canAssignToNewUser).toBe(false);
  });

  it('ACTIVE, not AVAILABLE, once a cleared recycled number is reassigned and in NORMAL use', () => {
    const v = view([
      ...recycled,
      delink('COMPLETED', 'ALL', '2024-01-08'),
      status('REASSIGNED', '2024-02-01'),
      status('NORMAL', '2024-02-02'),
    ]);
    expect(v.lifecycleStatus).toBe('ACTIVE');
    expect(v.cleanupStatus).toBe('completed');
  });

  it('a COMPLETED delink on a number that was never recycled clears nothing', () => {
    const r = run([nin('LINK', NIN_A, '2020-01-01'), delink('COMPLETED', 'ALL', '2024-01-08')]);
    expect(deriveView(MSISDN, r).ninLinkages[0]?.clearedDate).toBeNull();
    expect(deriveView(MSISDN, r).cleanupStatus).toBe('not_required');
  });

  it('leaves the open request when REJECTED or COMPLETED name another request id', () => {
    const open = [...recycled, delink('APPROVED', 'ALL', '2024-01-06', 'r1')];
    expect(run([...open, delink('REJECTED', 'ALL', '2024-01-07', 'r2')]).openDelink).toEqual({
      requestId: 'r1',
      action: 'APPROVED',
    });
    const completedOther = run([...open, delink('COMPLETED', 'ALL', '2024-01-07', 'r2')]);
    expect(completedOther.openDelink).toEqual({ requestId: 'r1', action: 'APPROVED' });
    // The other request's completion still clears the old linkages.
    expect(deriveView(MSISDN, completedOther).cleanupStatus).toBe('completed');
  });
});

describe('state machine: delink clearing is judged by occurrence dates, not arrival order', () => {
  it('clears an old linkage whose LINK arrives after the COMPLETED delink', () => {
    const v = view([
      status('CHURNED', '2024-01-01'),
      delink('COMPLETED', 'ALL', '2024-01-08'),
      nin('LINK', NIN_A, '2020-01-01'),
      bvn('LINK', BVN_X, '2020-01-02', NIN_A),
    ]);
    expect(v.ninLinkages[0]?.clearedDate).toBe('2024-01-08');
    expect(v.bvnLinkages[0]?.clearedDate).toBe('2024-01-08');
    expect(v.lifecycleStatus).toBe('AVAILABLE');
  });

  it('uses a recycle that arrives after the COMPLETED delink, when it occurred before it', () => {
    const v = view([
      nin('LINK', NIN_A, '2020-01-01'),
      delink('COMPLETED', 'ALL', '2024-01-08'),
      status('CHURNED', '2024-01-01'),
    ]);
    expect(v.ninLinkages[0]?.clearedDate).toBe('2024-01-08');
    expect(v.cleanupStatus).toBe('completed');
  });

  it('clears nothing with a completion that precedes every recycle', () => {
    const v = view([
      nin('LINK', NIN_A, '2020-01-01'),
      delink('COMPLETED', 'ALL', '2023-12-01'),
      status('CHURNED', '2024-01-01'),
    ]);
    expect(v.ninLinkages[0]?.clearedDate).toBeNull();
    expect(v.conflicts).toEqual([{ code: 'STALE_LINKAGE', since: '2024-01-01' }]);
    expect(v.cleanupStatus).toBe('pending');
  });

  it("clears a later owner's linkages only with a later completion after a later recycle", () => {
    const life = [
      nin('LINK', NIN_A, '2018-01-01'),
      status('CHURNED', '2020-01-10'),
      delink('COMPLETED', 'ALL', '2020-02-01', 'r1'),
      status('REASSIGNED', '2020-06-01'),
      nin('LINK', NIN_B, '2020-06-02'),
      status('CHURNED', '2023-01-10'),
    ];
    const first = view(life);
    // R for the 2020-02-01 completion is 2020-01-10: NIN_A (2018) is cleared, NIN_B (2020-06-02) is not.
    expect(first.ninLinkages.map((l) => l.clearedDate)).toEqual(['2020-02-01', null]);
    expect(first.conflicts).toEqual([{ code: 'STALE_LINKAGE', since: '2023-01-10' }]);
    expect(first.lifecycleStatus).toBe('RECYCLED');
    const second = view([...life, delink('COMPLETED', 'NIN', '2023-02-01', 'r2')]);
    expect(second.ninLinkages.map((l) => l.clearedDate)).toEqual(['2020-02-01', '2023-02-01']);
    expect(second.lifecycleStatus).toBe('AVAILABLE');
  });

  it('never clears a linkage made on or after the recycle preceding the completion', () => {
    const v = view([
      status('REASSIGNED', '2024-01-01'),
      nin('LINK', NIN_A, '2024-01-01'),
      delink('COMPLETED', 'ALL', '2024-03-01'),
      nin('LINK', NIN_B, '2023-12-31'),
    ]);
    expect(v.ninLinkages.map((l) => l.clearedDate)).toEqual([null, '2024-03-01']);
  });

  it('re-activates a cleared token on a new LINK dated on or after the recycle', () => {
    const v = view([
      nin('LINK', NIN_A, '2020-01-01'),
      status('CHURNED', '2024-01-01'),
      delink('COMPLETED', 'ALL', '2024-01-08'),
      nin('LINK', NIN_A, '2024-02-01'),
    ]);
    expect(v.ninLinkages[0]).toMatchObject({ linkDate: '2024-02-01', clearedDate: null });
  });

  it('takes the earliest of the UNLINK date and the clearing delink date', () => {
    const base = [nin('LINK', NIN_A, '2020-01-01'), status('CHURNED', '2024-01-01')];
    const unlinkFirst = view([
      ...base,
      nin('UNLINK', NIN_A, '2024-01-05'),
      delink('COMPLETED', 'ALL', '2024-01-08'),
    ]);
    expect(unlinkFirst.ninLinkages[0]?.clearedDate).toBe('2024-01-05');
    const delinkFirst = view([
      ...base,
      delink('COMPLETED', 'ALL', '2024-01-08'),
      nin('UNLINK', NIN_A, '2024-02-01'),
    ]);
    expect(delinkFirst.ninLinkages[0]?.clearedDate).toBe('2024-01-08');
  });

  it('keeps the most recent 8 recycle dates and 8 completed delinks per scope, distinct', () => {
    const events: StateEvent[] = [];
    for (let m = 1; m <= 10; m++)
      events.push(status(m % 2 ? 'CHURNED' : 'REASSIGNED', `2020-${String(m).padStart(2, '0')}-01`));
    events.push(status('CHURNED', '2020-10-01'));
    for (let d = 1; d <= 9; d++) events.push(delink('COMPLETED', 'NIN', `2021-01-0${d}`));
    events.push(delink('COMPLETED', 'NIN', '2021-01-09'), delink('COMPLETED', 'ALL', '2021-01-09'));
    const r = run(events);
    expect(r.recycleDates).toEqual([
      '2020-03-01',
      '2020-04-01',
      '2020-05-01',
      '2020-06-01',
      '2020-07-01',
      '2020-08-01',
      '2020-09-01',
      '2020-10-01',
    ]);
    expect(r.lastChurnedDate).toBe('2020-10-01');
    expect(r.lastReassignedDate).toBe('2020-10-01');
    expect(r.completedDelinks.filter((d) => d.scope === 'NIN').map((d) => d.date)).toEqual(
      ['02', '03', '04', '05', '06', '07', '08', '09'].map((d) => `2021-01-${d}`),
    );
    expect(r.completedDelinks.at(-2)).toEqual({ date: '2021-01-09', scope: 'ALL' });
    expect(r.version).toBe(events.length);
  });
});

describe('state machine: blacklisting', () => {
  it('is BLOCKED with a conflict since the status date while linkages are live, and never assignable', () => {
    const v = view([
      nin('LINK', NIN_A, '2020-01-01'),
      status('CHURNED', '2023-01-01'),
      status('BLACKLISTED', '2024-01-01'),
    ]);
    expect(v.lifecycleStatus).toBe('BLOCKED');
    expect(v.conflicts).toEqual([
      { code: 'STALE_LINKAGE', since: '2023-01-01' },
      { code: 'BLACKLISTED_WITH_LINKAGES', since: '2024-01-01' },
    ]);
    expect(v.canAssignToNewUser).toBe(false);
  });

  it('is BLOCKED without conflicts when nothing is linked', () => {
    const v = view([status('BLACKLISTED', '2024-01-01')]);
    expect(v.lifecycleStatus).toBe('BLOCKED');
    expect(v.conflicts).toEqual([]);
    expect(v.cleanupStatus).toBe('not_required');
  });
});

describe('state machine: invalid events', () => {
  const cases: [string, StateEvent, RegExp][] = [
    [
      'a bad occurrence date',
      status('NORMAL', '2024-02-30'),
      /occurrenceDate '2024-02-30' is not a real calendar date/,
    ],
    ['a date before the storable range', status('NORMAL', '1989-12-31'), /outside the supported range/],
    [
      'a 1950 date (acknowledged by ingest before the contract)',
      status('NORMAL', '1950-03-01'),
      /occurrenceDate '1950-03-01' is outside the supported range 1990-01-01..2105-12-31/,
    ],
    [
      'a date past what ClickHouse stores',
      nin('LINK', NIN_A, '2106-01-01'),
      /linkDate '2106-01-01' is outside/,
    ],
    [
      'a bad reassignment date',
      status('NORMAL', '2024-01-01', { reassignmentDate: '01/02/2024' }),
      /reassignmentDate/,
    ],
    [
      'an empty operator',
      status('NORMAL', '2024-01-01', { operator: '' }),
      /operator must be a non-empty string/,
    ],
    ['an unknown status', status('BARRED' as TelecomStatus, '2024-01-01'), /status 'BARRED' is unknown/],
    ['a short token', nin('LINK', 'abc', '2024-01-01'), /ninToken must be 16 lowercase hex/],
    ['an unmasked NIN', nin('LINK', NIN_A, '2024-01-01', '12345678901'), /ninMasked must be 7 '\*'/],
    [
      'a bad holder token',
      bvn('LINK', BVN_X, '2024-01-01', 'XYZ'),
      /holderNinToken must be 16 lowercase hex/,
    ],
  ];
  it.each(cases)('rejects %s with a specific reason', (_name, ev, reason) => {
    const out = applyEvent(emptyRecord(), ev, 0n);
    expect(out.status).toBe('invalid');
    expect(out.status === 'invalid' && out.reason).toMatch(reason);
  });
});
