import {
  type BvnLinkageEvent,
  type DelinkEvent,
  dateToDays,
  dateToEpochMs,
  daysToDate,
  type EventKind,
  mask,
  type NinLinkageEvent,
  nationalForm,
  type StatusUpdateEvent,
  type TelecomStatus,
} from '@hub/schemas';
import type { Population } from './population.ts';
import { tokenCache } from './tokens.ts';
import type { BvnTruth, DelinkTruth, NinTruth, SampleNumber, StatusTruth, TruthEvent } from './truth.ts';

/** Where the sample's events say they entered the hub. */
export const SAMPLE_SOURCE = 'GENERATOR';

/** A status record as an operator files it (TIRMS field names), plus the reporting operator. */
export interface StatusFileRecord {
  eventId: string;
  phoneNumber: string;
  status: TelecomStatus | 'BARRED';
  reassignmentDate: string | null;
  occurrenceOfStatusDate: string;
  remarks: string | null;
  operator: string;
}

/** A NIMC feed record: raw NIN, tokenised later by ingest. */
export interface NinFileRecord {
  eventId: string;
  msisdn: string;
  action: 'LINK' | 'UNLINK';
  nin: string;
  date: string;
}

/** A NIBSS feed record: raw BVN, holder NIN and NUBAN, tokenised later by ingest. */
export interface BvnFileRecord {
  eventId: string;
  msisdn: string;
  action: 'LINK' | 'UNLINK';
  bvn: string;
  holderNin: string | null;
  nuban: string;
  bankCode: string;
  date: string;
}

export interface DelinkFileRecord {
  eventId: string;
  requestId: string;
  msisdn: string;
  action: DelinkEvent['action'];
  scope: DelinkEvent['scope'];
  actor: string;
  reason: string | null;
  date: string;
}

export type SampleEvent =
  | { kind: 'status-update'; msisdn: string; value: StatusUpdateEvent; record: StatusFileRecord }
  | { kind: 'nin-linkage'; msisdn: string; value: NinLinkageEvent; record: NinFileRecord }
  | { kind: 'bvn-linkage'; msisdn: string; value: BvnLinkageEvent; record: BvnFileRecord }
  | { kind: 'delink'; msisdn: string; value: DelinkEvent; record: DelinkFileRecord };

export type SampleEventKind = Extract<EventKind, SampleEvent['kind']>;
export const SAMPLE_EVENT_KINDS: readonly SampleEventKind[] = [
  'status-update',
  'nin-linkage',
  'bvn-linkage',
  'delink',
];

const HOUR_MS = 3_600_000;

/**
 * Every delivery of the sample in national arrival order. A delivery arrives on the day of the
 * newest event its number has delivered so far (so a late event arrives with or after the newer one
 * it follows); the stream is ordered by that day, then by number, then by the number's own order.
 * A duplicate is the same event again: same id, same bytes.
 */
export function* eventsOf(population: Population): Generator<SampleEvent> {
  const tokenOf = tokenCache(population.options.tokenSecret);
  const rows = deliveryOrder(population.numbers);
  for (let i = 0; i < rows.length; i += STRIDE) {
    const n = rows[i] ?? 0;
    const pos = rows[i + 1] ?? 0;
    const number = population.numbers[n];
    const e = number?.truth[number.arrival[pos] ?? -1];
    if (!number || !e) throw new Error(`delivery ${n}/${pos} does not exist`);
    // 22:00 UTC on the day of the event's first delivery: after every occurrence time of that day
    // (at most 21:00 UTC), and the same for a duplicate, which repeats the event byte for byte.
    const receivedAt = dateToEpochMs(daysToDate(rows[i + 3] ?? 0)) + 22 * HOUR_MS + (rows[i + 4] ?? 0) * 1000;
    yield toSampleEvent(number, e, receivedAt, tokenOf);
  }
}

/** Row layout: number index, arrival position, arrival day, first-delivery day, first-delivery position. */
const STRIDE = 5;

/** Flat rows (see STRIDE), sorted into national arrival order: by arrival day, number, position. */
function deliveryOrder(numbers: readonly SampleNumber[]): Int32Array {
  const total = numbers.reduce((sum, n) => sum + n.arrival.length, 0);
  const rows = new Int32Array(total * STRIDE);
  let k = 0;
  numbers.forEach((number, n) => {
    let day = Number.NEGATIVE_INFINITY;
    const first = new Map<number, [number, number]>();
    number.arrival.forEach((t, pos) => {
      const e = number.truth[t];
      if (!e) throw new Error(`${number.msisdn}: arrival refers to missing event ${t}`);
      day = Math.max(day, dateToDays(e.day));
      const [firstDay, firstPos] = first.get(t) ?? [day, pos];
      first.set(t, [firstDay, firstPos]);
      rows.set([n, pos, day, firstDay, firstPos], k);
      k += STRIDE;
    });
  });
  const at = (row: number, field: number): number => rows[row * STRIDE + field] ?? 0;
  const index = Uint32Array.from({ length: total }, (_, i) => i);
  index.sort((a, b) => at(a, 2) - at(b, 2) || at(a, 0) - at(b, 0) || at(a, 1) - at(b, 1));
  const sorted = new Int32Array(total * STRIDE);
  index.forEach((from, to) => {
    sorted.set(rows.subarray(from * STRIDE, from * STRIDE + STRIDE), to * STRIDE);
  });
  return sorted;
}

export function toSampleEvent(
  number: SampleNumber,
  e: TruthEvent,
  receivedAt: number,
  tokenOf: (kind: 'NIN' | 'BVN' | 'NUBAN', raw: string) => string,
): SampleEvent {
  const envelope = { eventId: e.id, source: SAMPLE_SOURCE, occurredAt: e.occurredAt, receivedAt };
  const { msisdn } = number;
  switch (e.kind) {
    case 'status-update':
      return {
        kind: e.kind,
        msisdn,
        value: statusValue(msisdn, e, envelope),
        record: statusRecord(msisdn, e),
      };
    case 'nin-linkage':
      return {
        kind: e.kind,
        msisdn,
        value: ninValue(msisdn, e, envelope, tokenOf),
        record: { eventId: e.id, msisdn, action: e.action, nin: e.nin, date: e.day },
      };
    case 'bvn-linkage':
      return {
        kind: e.kind,
        msisdn,
        value: bvnValue(msisdn, e, envelope, tokenOf),
        record: {
          eventId: e.id,
          msisdn,
          action: e.action,
          bvn: e.bvn,
          holderNin: e.holderNin,
          nuban: e.nuban,
          bankCode: e.bankCode,
          date: e.day,
        },
      };
    case 'delink':
      return {
        kind: e.kind,
        msisdn,
        value: delinkValue(msisdn, e, envelope),
        record: delinkRecord(msisdn, e),
      };
  }
}

type Envelope = Pick<StatusUpdateEvent, 'eventId' | 'source' | 'occurredAt' | 'receivedAt'>;

function statusValue(msisdn: string, e: StatusTruth, envelope: Envelope): StatusUpdateEvent {
  return {
    ...envelope,
    operator: e.operator,
    msisdn,
    status: e.status,
    occurrenceDate: e.day,
    reassignmentDate: e.reassignmentDate,
    remarks: e.remarks,
    batchId: null,
  };
}

function statusRecord(msisdn: string, e: StatusTruth): StatusFileRecord {
  const phoneNumber =
    e.numberForm === 'national' ? nationalForm(msisdn) : e.numberForm === 'plus' ? `+${msisdn}` : msisdn;
  return {
    eventId: e.id,
    phoneNumber,
    status: e.filedAs,
    reassignmentDate: e.reassignmentDate,
    occurrenceOfStatusDate: e.day,
    remarks: e.remarks,
    operator: e.operator,
  };
}

function ninValue(
  msisdn: string,
  e: NinTruth,
  envelope: Envelope,
  tokenOf: (kind: 'NIN', raw: string) => string,
): NinLinkageEvent {
  return {
    ...envelope,
    msisdn,
    action: e.action,
    ninToken: tokenOf('NIN', e.nin),
    ninMasked: mask(e.nin),
    linkDate: e.day,
  };
}

function bvnValue(
  msisdn: string,
  e: BvnTruth,
  envelope: Envelope,
  tokenOf: (kind: 'NIN' | 'BVN' | 'NUBAN', raw: string) => string,
): BvnLinkageEvent {
  return {
    ...envelope,
    msisdn,
    action: e.action,
    bvnToken: tokenOf('BVN', e.bvn),
    bvnMasked: mask(e.bvn),
    holderNinToken: e.holderNin === null ? null : tokenOf('NIN', e.holderNin),
    nubanToken: tokenOf('NUBAN', e.nuban),
    nubanMasked: mask(e.nuban),
    bankCode: e.bankCode,
    linkDate: e.day,
  };
}

function delinkValue(msisdn: string, e: DelinkTruth, envelope: Envelope): DelinkEvent {
  return {
    ...envelope,
    requestId: e.requestId,
    msisdn,
    action: e.action,
    scope: e.scope,
    actor: e.actor,
    reason: e.reason,
  };
}

function delinkRecord(msisdn: string, e: DelinkTruth): DelinkFileRecord {
  return {
    eventId: e.id,
    requestId: e.requestId,
    msisdn,
    action: e.action,
    scope: e.scope,
    actor: e.actor,
    reason: e.reason,
    date: e.day,
  };
}
