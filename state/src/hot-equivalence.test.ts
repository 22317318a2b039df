/**
 * The state functions against digests of what the implementations they replaced gave (the
 * optimised applyEvent / encodeState / decodeState of the hot path were checked against those,
 * verbatim, before they replaced them): the same outcomes, records, bytes, decoded records and
 * refusals, on generated event streams, the dev-tools sample, altered records and corrupted bytes.
 * The bytes are the stored format, so a digest that changes is a format change: if it is meant,
 * write a new golden file from `goldenOf` of the new code, in the commit that changes the format.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { eventsOf, generatePopulation, type SampleEvent } from '@hub/dev-tools/sample/index';
import {
  type BvnLinkageEvent,
  type DelinkEvent,
  type DelinkScope,
  dateToDays,
  daysToDate,
  type NinLinkageEvent,
  OPERATORS,
  type StatusUpdateEvent,
  TELECOM_STATUSES,
} from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from './encoding.ts';
import { type ApplyOutcome, applyEvent } from './machine.ts';
import { mulberry32 } from './random.ts';
import { emptyRecord, type StateEvent, type StateRecord, TEXT_LIMIT } from './record.ts';

const GOLDEN = new URL('./hot-equivalence.golden.json', import.meta.url);

function outcome(f: () => ApplyOutcome): ApplyOutcome | { status: 'threw'; message: string } {
  try {
    return f();
  } catch (err) {
    return { status: 'threw', message: (err as Error).message };
  }
}

function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    return { ok: false, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

/** A random event stream over a few tokens and dates, with some invalid events and redeliveries. */
function randomStream(seed: number, length: number): { ev: StateEvent; offset: bigint }[] {
  const r = mulberry32(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const base = dateToDays('2015-01-01');
  const date = () => (r() < 0.02 ? '2024-02-30' : daysToDate(base + int(r() < 0.5 ? 40 : 4000)));
  const tokens = Array.from({ length: 12 }, (_, i) => (i * 0x1111 + 0xabc).toString(16).padStart(16, '0'));
  const masked = () => `*******${String(int(10000)).padStart(4, '0')}`;
  const requests = ['00000000-0000-4000-8000-000000000001', 'req-2', 'req-3'];
  const env = () => ({
    eventId: `e${int(1e6)}`,
    source: 'KAFKA',
    occurredAt: Date.UTC(2024, 0, 1) + int(4e10),
    receivedAt: Date.UTC(2026, 0, 1),
  });
  const msisdn = '2348031234567';
  const next = { status: 0n, nin: 0n, bvn: 0n, delink: 0n };
  const out: { ev: StateEvent; offset: bigint }[] = [];
  for (let i = 0; i < length; i++) {
    let ev: StateEvent;
    const k = int(4);
    if (k === 0) {
      const status = pick(TELECOM_STATUSES);
      const event: StatusUpdateEvent = {
        ...env(),
        operator: r() < 0.9 ? pick(OPERATORS).code : `OP-${int(100)}`,
        msisdn,
        status,
        occurrenceDate: date(),
        reassignmentDate: r() < 0.3 ? date() : null,
        remarks: null,
        batchId: null,
      };
      ev = { input: 'status', event };
    } else if (k === 1) {
      const event: NinLinkageEvent = {
        ...env(),
        msisdn,
        action: r() < 0.7 ? 'LINK' : 'UNLINK',
        ninToken: pick(tokens),
        ninMasked: masked(),
        linkDate: date(),
      };
      ev = { input: 'nin', event };
    } else if (k === 2) {
      const event: BvnLinkageEvent = {
        ...env(),
        msisdn,
        action: r() < 0.7 ? 'LINK' : 'UNLINK',
        bvnToken: pick(tokens),
        bvnMasked: masked(),
        holderNinToken: r() < 0.5 ? pick(tokens) : null,
        nubanToken: null,
        nubanMasked: null,
        bankCode: null,
        linkDate: date(),
      };
      ev = { input: 'bvn', event };
    } else {
      const actions: DelinkEvent['action'][] = [
        'REQUESTED',
        'APPROVED',
        'REJECTED',
        'CANCELLED',
        'FAILED',
        'RETRIED',
        'PROCESSING',
        'DISPATCHED',
        'COMPLETED',
      ];
      const scopes: DelinkScope[] = ['ALL', 'NIN', 'BVN'];
      const event = {
        ...env(),
        msisdn,
        requestId: pick(requests),
        action: pick(actions),
        scope: pick(scopes),
        actor: 'ops',
        reason: null,
      } as DelinkEvent;
      ev = { input: 'delink', event };
    }
    // Mostly the next offset, sometimes a redelivery.
    const offset = r() < 0.05 ? next[ev.input] - 1n : next[ev.input]++;
    out.push({ ev, offset });
  }
  return out;
}

interface Impl {
  applyEvent(record: StateRecord, ev: StateEvent, offset: bigint): ApplyOutcome;
  encodeState(r: StateRecord): Buffer;
  decodeState(b: Buffer): StateRecord;
}

/** A canonical text of any value the state functions take or give (bigints and buffers included). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint'
      ? `${x}n`
      : x && typeof x === 'object' && (x as { type?: unknown }).type === 'Buffer'
        ? Buffer.from((x as { data: number[] }).data).toString('hex')
        : x,
  );
}

class Digest {
  private readonly h = createHash('sha256');
  add(v: unknown): void {
    this.h.update(canon(v));
    this.h.update('\n');
  }
  hex(): string {
    return this.h.digest('hex').slice(0, 16);
  }
}

function encodingOf(impl: Impl, d: Digest, record: StateRecord): void {
  const encoded = attempt(() => impl.encodeState(record));
  d.add(encoded.ok ? encoded.value.toString('hex') : encoded);
  if (encoded.ok) d.add(impl.decodeState(encoded.value));
}

function decodingOf(impl: Impl, d: Digest, bytes: Buffer): void {
  d.add(attempt(() => impl.decodeState(bytes)));
}

function streamOutcomes(impl: Impl, seed: number): string {
  const d = new Digest();
  let rec = emptyRecord();
  for (const { ev, offset } of randomStream(seed, 60)) {
    const o = outcome(() => impl.applyEvent(rec, ev, offset));
    d.add(o);
    if (o.status === 'applied') {
      rec = o.record;
      encodingOf(impl, d, rec);
    }
  }
  return d.hex();
}

function sampleOutcomes(impl: Impl): string[] {
  const population = generatePopulation(
    { numbers: 400, seed: 11, tokenSecret: 'equivalence', endDate: '2026-11-30' },
    Date.UTC(2026, 11, 1),
  );
  const byNumber = new Map<string, SampleEvent[]>();
  for (const e of eventsOf(population)) byNumber.set(e.msisdn, [...(byNumber.get(e.msisdn) ?? []), e]);
  const input = {
    'status-update': 'status',
    'nin-linkage': 'nin',
    'bvn-linkage': 'bvn',
    delink: 'delink',
  } as const;
  const out: string[] = [];
  for (const events of byNumber.values()) {
    const d = new Digest();
    let rec = emptyRecord();
    events.forEach((e, i) => {
      const o = impl.applyEvent(rec, { input: input[e.kind], event: e.value } as StateEvent, BigInt(i));
      d.add(o);
      if (o.status === 'applied') rec = o.record;
    });
    encodingOf(impl, d, rec);
    out.push(d.hex());
  }
  return out;
}

const ALTERATIONS: ((x: StateRecord) => void)[] = [
  (x) => (x.version = -1),
  (x) => (x.version = 2 ** 53),
  (x) => (x.offsets = { ...x.offsets, nin: 2n ** 63n }),
  (x) => (x.offsets = { ...x.offsets, status: 2n ** 60n }),
  (x) => (x.recycleDates = [...x.recycleDates, '2200-01-01']),
  (x) => (x.recycleDates = []),
  (x) => (x.lastChurnedDate = '2020-01-01'),
  (x) => (x.statusDate = '1989-12-31'),
  (x) => (x.nin = x.nin.map((l) => ({ ...l, masked: '*******12a4' }))),
  (x) => (x.bvn = x.bvn.map((l) => ({ ...l, token: 'ABCDEF0123456789' }))),
  (x) => (x.nin = [...x.nin, ...x.nin]),
  (x) => (x.droppedLinkages = { nin: 1.5, bvn: 0 }),
  (x) => (x.droppedLinkages = { nin: 0, bvn: 3 }),
  (x) => (x.completedDelinks = [...x.completedDelinks].reverse()),
  (x) => (x.completedDelinks = [{ date: '2024-01-01', scope: 'NIN' }, ...x.completedDelinks]),
  (x) => (x.openDelink = { requestId: '', action: 'REQUESTED' }),
  (x) => (x.operator = 'x'.repeat(TEXT_LIMIT + 1)),
];

/** Records built by `impl` from stream `seed`, then `count` copies altered or corrupted. */
function builtRecord(impl: Impl, seed: number, length: number): StateRecord {
  let rec = emptyRecord();
  for (const { ev, offset } of randomStream(seed, length)) {
    const o = impl.applyEvent(rec, ev, offset);
    if (o.status === 'applied') rec = o.record;
  }
  return rec;
}

function alteredOutcomes(impl: Impl): string[] {
  const r = mulberry32(99);
  const out: string[] = [];
  for (let seed = 1; seed <= 150; seed++) {
    const x = structuredClone(builtRecord(impl, seed, 40));
    ALTERATIONS[Math.floor(r() * ALTERATIONS.length)]!(x);
    const d = new Digest();
    encodingOf(impl, d, x);
    out.push(d.hex());
  }
  return out;
}

function corruptedOutcomes(impl: Impl): string[] {
  const r = mulberry32(7);
  const int = (n: number) => Math.floor(r() * n);
  const out: string[] = [];
  for (let seed = 1; seed <= 200; seed++) {
    const bytes = impl.encodeState(builtRecord(impl, seed, 50));
    const d = new Digest();
    decodingOf(impl, d, bytes);
    for (let k = 0; k < 20; k++) {
      const b = Buffer.from(bytes);
      const what = int(3);
      if (what === 0) b[int(b.length)] = int(256);
      else if (what === 1) b[int(b.length)]! ^= 1 << int(8);
      decodingOf(impl, d, what === 2 ? b.subarray(0, int(b.length)) : b);
    }
    decodingOf(impl, d, Buffer.concat([bytes, Buffer.from([int(256)])]));
    out.push(d.hex());
  }
  return out;
}

function goldenOf(impl: Impl) {
  return {
    streams: Array.from({ length: 300 }, (_, i) => streamOutcomes(impl, i + 1)),
    sample: sampleOutcomes(impl),
    altered: alteredOutcomes(impl),
    corrupted: corruptedOutcomes(impl),
  };
}

const IMPL: Impl = { applyEvent, encodeState, decodeState };

// Thousands of applies, encodes and decodes each: more than the default 5 s on a loaded machine.
describe('state functions against the digests of the implementations they replaced', {
  timeout: 60_000,
}, () => {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as ReturnType<typeof goldenOf>;

  it('apply the same events to the same records and encode the same bytes', () => {
    const streams = Array.from({ length: 300 }, (_, i) => streamOutcomes(IMPL, i + 1));
    for (const [i, digest] of streams.entries())
      expect(digest, `stream seed ${i + 1}`).toBe(golden.streams[i]);
    // The digests tell the streams apart (they cover what each stream did).
    expect(new Set(streams).size).toBe(streams.length);
  });

  it('never change the record they are given', () => {
    for (let seed = 1; seed <= 100; seed++) {
      let rec = emptyRecord();
      for (const { ev, offset } of randomStream(seed, 60)) {
        const before = structuredClone(rec);
        const o = outcome(() => applyEvent(rec, ev, offset));
        expect(rec).toEqual(before);
        if (o.status === 'applied') rec = o.record;
      }
    }
  });

  it('agree on every number of the dev-tools sample', () => {
    expect(sampleOutcomes(IMPL)).toEqual(golden.sample);
  });

  it('encode or refuse altered records alike', () => {
    expect(alteredOutcomes(IMPL)).toEqual(golden.altered);
  });

  it('decode or refuse corrupted bytes alike', () => {
    expect(corruptedOutcomes(IMPL)).toEqual(golden.corrupted);
  });
});
