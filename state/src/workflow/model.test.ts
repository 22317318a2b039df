import type { DelinkEvent, RecycledSimEvent } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { applyDelinkEvent, applySimEvent, type DelinkRequestDoc, simIdOf } from './model.ts';

const M = '2348031234567';
let n = 0;
const ev = (action: DelinkEvent['action'], extra: Partial<DelinkEvent> = {}): DelinkEvent => ({
  eventId: `e${++n}`,
  source: 'API',
  requestId: 'r1',
  msisdn: M,
  action,
  scope: 'ALL',
  actor: 'user:a',
  reason: null,
  occurredAt: 1_000 + n,
  receivedAt: 1_000 + n,
  linkages: [],
  attempt: 0,
  linkageId: null,
  outcome: null,
  idempotencyKey: null,
  operator: 'MTN',
  ...extra,
});
const NIN = {
  kind: 'NIN' as const,
  token: '0123456789abcdef',
  masked: '*******1234',
  linkDate: '2019-01-10',
};

function run(events: DelinkEvent[], others: DelinkRequestDoc[] = []) {
  let doc: DelinkRequestDoc | null = null;
  const reasons: string[] = [];
  for (const e of events) {
    const out = applyDelinkEvent(doc, e, others);
    if (out.applied) doc = out.doc;
    else reasons.push(out.reason);
  }
  return { doc, reasons };
}

describe('delink request projection', () => {
  it('goes PENDING → APPROVED → PROCESSING → COMPLETED, one transition per step', () => {
    const { doc } = run([
      ev('REQUESTED', { linkages: [NIN] }),
      ev('APPROVED', { actor: 'user:b', attempt: 1 }),
      ev('PROCESSING', { attempt: 1 }),
      ev('DISPATCHED', {
        attempt: 1,
        linkageId: 'nin:0123456789abcdef',
        outcome: 'ACCEPTED',
        idempotencyKey: 'k',
      }),
      ev('COMPLETED'),
    ]);
    expect(doc?.status).toBe('COMPLETED');
    expect(doc?.transitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      'null>PENDING',
      'PENDING>APPROVED',
      'APPROVED>PROCESSING',
      'PROCESSING>PROCESSING',
      'PROCESSING>COMPLETED',
    ]);
    expect(doc?.dispatches).toHaveLength(1);
  });

  it('ignores a redelivered event and an illegal step, saying why', () => {
    const req = ev('REQUESTED', { linkages: [NIN] });
    const { doc, reasons } = run([
      req,
      req,
      ev('PROCESSING', { attempt: 0 }),
      ev('CANCELLED'),
      ev('APPROVED'),
    ]);
    expect(doc?.status).toBe('CANCELLED');
    expect(reasons).toEqual([
      'duplicate',
      'ILLEGAL_TRANSITION: PROCESSING from PENDING',
      'ILLEGAL_TRANSITION: APPROVED from CANCELLED',
    ]);
  });

  it('retries a FAILED request as the next attempt and drops a stale attempt’s steps', () => {
    const { doc, reasons } = run([
      ev('REQUESTED', { linkages: [NIN] }),
      ev('APPROVED', { attempt: 1 }),
      ev('FAILED', { attempt: 1, reason: 'NIMC: hold' }),
      ev('RETRIED', { attempt: 2 }),
      ev('PROCESSING', { attempt: 1 }),
    ]);
    expect(doc).toMatchObject({ status: 'APPROVED', attempt: 2, failureReason: null });
    expect(reasons).toEqual(['attempt 1 is not the current attempt 2']);
  });

  it('refuses a second open request for the same linkage', () => {
    const open = run([ev('REQUESTED', { linkages: [NIN] })]).doc!;
    const { doc, reasons } = run([ev('REQUESTED', { requestId: 'r2', linkages: [NIN] })], [open]);
    expect(doc).toBeNull();
    expect(reasons[0]).toMatch(/^DUPLICATE_REQUEST: nin:0123456789abcdef/);
  });
});

describe('recycled-SIM registry projection', () => {
  const sim = (
    action: RecycledSimEvent['action'],
    extra: Partial<RecycledSimEvent> = {},
  ): RecycledSimEvent => ({
    eventId: `s${++n}`,
    source: 'API',
    simId: simIdOf(M),
    msisdn: M,
    action,
    recycleDate: '2024-01-05',
    operator: 'MTN',
    cleanupStatus: 'pending',
    linkages: [NIN],
    actor: 'user:a',
    reason: null,
    occurredAt: n,
    receivedAt: n,
    ...extra,
  });

  it('gives a number one id, a detection once, and a registration on top of a detection', () => {
    expect(simIdOf(M)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(simIdOf(M)).toBe(simIdOf(M));
    const first = applySimEvent(null, sim('DETECTED'));
    if (!first.applied) throw new Error(first.reason);
    expect(applySimEvent(first.doc, sim('DETECTED')).applied).toBe(false);
    const reg = applySimEvent(first.doc, sim('REGISTERED'));
    expect(reg.applied && reg.doc.origin).toBe('REGISTERED');
  });

  it('allows only legal cleanup-status changes', () => {
    const d = applySimEvent(null, sim('REGISTERED'));
    if (!d.applied) throw new Error(d.reason);
    const done = applySimEvent(d.doc, sim('CLEANUP_STATUS_CHANGED', { cleanupStatus: 'completed' }));
    if (!done.applied) throw new Error(done.reason);
    const back = applySimEvent(done.doc, sim('CLEANUP_STATUS_CHANGED', { cleanupStatus: 'pending' }));
    expect(back).toEqual({ applied: false, reason: 'ILLEGAL_TRANSITION: completed to pending' });
  });
});
