import { eventsOf, generatePopulation, type SampleEvent } from '@hub/dev-tools/sample/index';
import { type DelinkEvent, type DelinkScope, dateToDays, daysToDate, TELECOM_STATUSES } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { deriveSummary, deriveView } from './derive.ts';
import { applyEvent } from './machine.ts';
import { mulberry32 } from './random.ts';
import { emptyRecord, type StateEvent, type StateRecord } from './record.ts';

function summaryOfView(msisdn: string, r: StateRecord) {
  const { ninLinkages: _nin, bvnLinkages: _bvn, ...rest } = deriveView(msisdn, r);
  return rest;
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
  it("gives deriveView's fields, linkage lists aside, for every record of random streams", () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      for (const record of randomRecords(seed, 400)) {
        const summary = deriveSummary('2348031234567', record);
        expect(summary).toEqual(summaryOfView('2348031234567', record));
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

  it('gives deriveView’s fields for every record of the dev-tools sample, an empty one included', () => {
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
      expect(deriveSummary(e.msisdn, o.record)).toEqual(summaryOfView(e.msisdn, o.record));
    }
    expect(records.size).toBeGreaterThan(2000);
    expect(deriveSummary('2348031234567', emptyRecord())).toEqual(
      summaryOfView('2348031234567', emptyRecord()),
    );
  });
});
