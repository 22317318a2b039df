import type { DelinkAction, DelinkScope, TelecomStatus } from '@hub/schemas';
import { TELECOM_STATUSES } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { deriveView } from './derive.ts';
import { encodeState } from './encoding.ts';
import { applyEvent } from './machine.ts';
import { mulberry32 as rng } from './random.ts';
import { emptyRecord, INPUTS, type Input, type StateEvent, type StateRecord } from './record.ts';

/**
 * The record must not depend on how the four topics interleave: Kafka keeps each topic's order per
 * number, nothing more, and a rebuild replays the topics in a different interleaving than the live
 * run saw. Random lives, random interleavings that keep each topic's own order → identical bytes.
 */

const MSISDN = '2348031234567';

/** Per-topic event lists of a random life: few dates and tokens, so ties and overlaps are common. */
function randomLife(seed: number): Record<Input, StateEvent[]> {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  // Dates within a few years, months only, so recycles, links and completions collide often.
  const date = () => `20${pick(['19', '20', '21', '22', '23'])}-${String(1 + int(12)).padStart(2, '0')}-01`;
  // Usually a few tokens; in a fifth of the lives many, so that linkages overflow LINKAGE_LIMIT.
  const many = r() < 0.2;
  const tokens = Array.from({ length: many ? 24 : 4 }, (_, i) => (0x1000 + i).toString(16).repeat(4));
  const env = (d: string) => ({
    eventId: `e${int(1e9)}`,
    source: 'KAFKA',
    occurredAt: Date.parse(`${d}T10:00:00Z`),
    receivedAt: Date.parse(`${d}T10:00:00Z`),
  });
  const topics: Record<Input, StateEvent[]> = { status: [], nin: [], bvn: [], delink: [] };
  const n = many ? 60 + int(60) : 4 + int(30);
  for (let i = 0; i < n; i++) {
    const input = pick(INPUTS);
    const d = date();
    // Sometimes deliver the previous event of the topic again (a duplicate with a new offset).
    const prev = topics[input].at(-1);
    if (prev && r() < 0.1) {
      topics[input].push(prev);
      continue;
    }
    switch (input) {
      case 'status': {
        const status: TelecomStatus = r() < 0.5 ? pick(['CHURNED', 'REASSIGNED']) : pick(TELECOM_STATUSES);
        topics.status.push({
          input,
          event: {
            ...env(d),
            operator: pick(['MTN', 'GLO', 'AIRTEL']),
            msisdn: MSISDN,
            status,
            occurrenceDate: d,
            reassignmentDate: r() < 0.5 ? d : null,
            remarks: null,
            batchId: null,
          },
        });
        break;
      }
      case 'nin':
        topics.nin.push({
          input,
          event: {
            ...env(d),
            msisdn: MSISDN,
            action: r() < 0.7 ? 'LINK' : 'UNLINK',
            ninToken: pick(tokens),
            ninMasked: `*******${String(int(10000)).padStart(4, '0')}`,
            linkDate: d,
          },
        });
        break;
      case 'bvn':
        topics.bvn.push({
          input,
          event: {
            ...env(d),
            msisdn: MSISDN,
            action: r() < 0.7 ? 'LINK' : 'UNLINK',
            bvnToken: pick(tokens),
            bvnMasked: `*******${String(int(10000)).padStart(4, '0')}`,
            holderNinToken: r() < 0.6 ? pick(tokens) : null,
            nubanToken: null,
            nubanMasked: null,
            bankCode: null,
            linkDate: d,
          },
        });
        break;
      case 'delink': {
        const action: DelinkAction =
          r() < 0.5 ? 'COMPLETED' : pick(['REQUESTED', 'APPROVED', 'REJECTED', 'CANCELLED']);
        const scope: DelinkScope = pick(['ALL', 'ALL', 'NIN', 'BVN']);
        topics.delink.push({
          input,
          event: {
            ...env(d),
            requestId: pick(['r1', 'r2']),
            msisdn: MSISDN,
            action,
            scope,
            actor: 'admin',
            reason: null,
          },
        });
        break;
      }
    }
  }
  return topics;
}

/** A random merge of the topics that keeps each topic's own order, with offsets per topic. */
function interleave(topics: Record<Input, StateEvent[]>, r: () => number): [StateEvent, bigint][] {
  const next: Record<Input, number> = { status: 0, nin: 0, bvn: 0, delink: 0 };
  const out: [StateEvent, bigint][] = [];
  for (;;) {
    const open = INPUTS.filter((i) => next[i] < topics[i].length);
    if (open.length === 0) return out;
    const input = open[Math.floor(r() * open.length)]!;
    const offset = next[input]++;
    out.push([topics[input][offset]!, BigInt(offset)]);
  }
}

function applyAll(events: [StateEvent, bigint][]): StateRecord {
  let rec = emptyRecord();
  for (const [ev, offset] of events) {
    const out = applyEvent(rec, ev, offset);
    if (out.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(out)}`);
    rec = out.record;
  }
  return rec;
}

/** Topic after topic: one particular interleaving (delinks first, the worst case for the old rule). */
function sequential(topics: Record<Input, StateEvent[]>, order: readonly Input[]): [StateEvent, bigint][] {
  return order.flatMap((input) => topics[input].map((ev, i): [StateEvent, bigint] => [ev, BigInt(i)]));
}

describe('state record: independent of how the four topics interleave', () => {
  it('gives identical bytes for 20 random interleavings of each of 500 random lives', () => {
    let cleared = 0;
    let dropped = 0;
    for (let seed = 1; seed <= 500; seed++) {
      const topics = randomLife(seed);
      const reference = encodeState(applyAll(sequential(topics, ['delink', 'bvn', 'nin', 'status'])));
      const orders: [StateEvent, bigint][][] = [sequential(topics, ['status', 'nin', 'bvn', 'delink'])];
      const r = rng(seed * 7919);
      for (let k = 0; k < 20; k++) orders.push(interleave(topics, r));
      for (const events of orders) {
        const bytes = encodeState(applyAll(events));
        expect(bytes.toString('hex'), `seed ${seed}`).toBe(reference.toString('hex'));
      }
      const record = applyAll(orders[0]!);
      if (record.droppedLinkages.nin + record.droppedLinkages.bvn > 0) dropped++;
      const view = deriveView(MSISDN, record);
      if ([...view.ninLinkages, ...view.bvnLinkages].some((l) => l.clearedDate !== null)) cleared++;
    }
    // The lives exercise clearing, not just trivially commuting events.
    expect(cleared).toBeGreaterThan(100);
    // ...and bounded linkage lists that had to drop entries.
    expect(dropped).toBeGreaterThan(30);
  }, 30_000);
});
