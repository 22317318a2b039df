import { checkDate, type EventTypes } from '@hub/schemas';
import { type HistoryKind, RAW_TABLES, type RawTable } from '@hub/state/history/tables';
import { TSV_NULL, tsvArray, tsvDateTime, tsvNullableString, tsvString, utcDate } from './tsv.ts';

export { utcDate } from './tsv.ts';

/** Where a row came from: its resume point in Kafka. */
export interface Provenance {
  topic: string;
  partition: number;
  /** Decimal string: offsets are int64. */
  offset: string;
}

/**
 * One row ready for `INSERT INTO table (HISTORY_COLUMNS[table]) FORMAT TabSeparated`: its fields
 * already encoded (processors/src/history/tsv.ts), so a batch is its lines, each ended by '\n'.
 */
export interface HistoryRow {
  table: RawTable;
  /** The row's number, for the erasure filter; null for a family without one (audit). */
  msisdn: string | null;
  /** The row's TabSeparated fields in HISTORY_COLUMNS order, without the newline that ends it. */
  line: string;
}

export type RowResult = { ok: true; value: HistoryRow } | { ok: false; reason: string };

/**
 * ClickHouse's Date and DateTime are unsigned offsets from 1970 (Date to 2149, DateTime to 2106 on
 * 18.16); a value outside silently wraps on insert, so such an event is refused with a reason rather
 * than stored wrong.
 */
const MIN_DATE = '1970-01-01';
const MAX_DATE = '2105-12-31';
const MAX_EPOCH_MS = Date.UTC(2105, 11, 31, 23, 59, 59);

class RowError extends Error {}

const ZERO = 48;
const DASH = 45;

function digit(value: string, at: number): number {
  const d = value.charCodeAt(at) - ZERO;
  return d >= 0 && d <= 9 ? d : -1000_000;
}

/**
 * A YYYY-MM-DD string of a real calendar day in MIN_DATE..MAX_DATE, checked without a regex or a
 * Date. Only ever stricter than checkDate and the range check together: what it refuses goes
 * through them, which give the reason (or accept it).
 */
function isStorableDate(value: string): boolean {
  if (value.length !== 10 || value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH) return false;
  const year = digit(value, 0) * 1000 + digit(value, 1) * 100 + digit(value, 2) * 10 + digit(value, 3);
  const month = digit(value, 5) * 10 + digit(value, 6);
  const day = digit(value, 8) * 10 + digit(value, 9);
  if (year < 1970 || year > 2105 || month < 1 || month > 12 || day < 1) return false;
  if (day <= 28) return true;
  if (month === 2) return day === 29 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}

/** A Date field: the checked YYYY-MM-DD string itself. */
function date(field: string, value: string): string {
  if (isStorableDate(value)) return value;
  const check = checkDate(value);
  if (!check.ok) throw new RowError(`${field} ${check.reason}`);
  if (value < MIN_DATE || value > MAX_DATE) {
    throw new RowError(`${field} '${value}' is outside the storable range ${MIN_DATE}..${MAX_DATE}`);
  }
  return value;
}

function nullableDate(field: string, value: string | null): string {
  return value === null ? TSV_NULL : date(field, value);
}

function epochSeconds(field: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS) {
    throw new RowError(`${field} ${ms} is not epoch milliseconds between 1970 and 2105`);
  }
  return Math.floor(ms / 1000);
}

function count(field: string, value: number, max: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RowError(`${field} ${value} is not a whole number between 0 and ${max}`);
  }
  return String(value);
}

/** The columns every raw table starts with, in the order `envelope` writes them. */
const ENVELOPE_COLUMNS = [
  'event_id',
  'source',
  'kafka_topic',
  'kafka_partition',
  'kafka_offset',
  'occurred_at',
  'received_at',
  'occurred_date',
  'received_date',
] as const;

/** Puts the envelope's fields (ENVELOPE_COLUMNS) at the start of `fields`. */
function envelope(event: EventTypes[HistoryKind], p: Provenance, fields: string[]): void {
  if (event.eventId.length === 0) throw new RowError('eventId is empty');
  const occurred = epochSeconds('occurredAt', event.occurredAt);
  const received = epochSeconds('receivedAt', event.receivedAt);
  fields[0] = tsvString(event.eventId);
  fields[1] = tsvString(event.source);
  fields[2] = tsvString(p.topic);
  // The partition is a small integer and the offset kafkajs's decimal string of an int64.
  fields[3] = String(p.partition);
  fields[4] = p.offset;
  fields[5] = tsvDateTime(occurred);
  fields[6] = tsvDateTime(received);
  fields[7] = utcDate(occurred);
  fields[8] = utcDate(received);
}

/** One column's field of an event, encoded (tsv.ts); throws RowError for a value ClickHouse cannot store. */
type Field<E> = (event: E) => string;

/**
 * Column values of each family beyond the envelope, by column name, in insert order. Tokens and
 * masks only: events carry no raw NIN/BVN.
 */
const FIELDS: { [K in HistoryKind]: Record<string, Field<EventTypes[K]>> } = {
  'status-update': {
    msisdn: (e) => tsvString(e.msisdn),
    operator: (e) => tsvString(e.operator),
    status: (e) => tsvString(e.status),
    occurrence_date: (e) => date('occurrenceDate', e.occurrenceDate),
    reassignment_date: (e) => nullableDate('reassignmentDate', e.reassignmentDate),
    remarks: (e) => tsvNullableString(e.remarks),
    batch_id: (e) => tsvNullableString(e.batchId),
  },
  'nin-linkage': {
    msisdn: (e) => tsvString(e.msisdn),
    action: (e) => tsvString(e.action),
    nin_token: (e) => tsvString(e.ninToken),
    nin_masked: (e) => tsvString(e.ninMasked),
    link_date: (e) => date('linkDate', e.linkDate),
  },
  'bvn-linkage': {
    msisdn: (e) => tsvString(e.msisdn),
    action: (e) => tsvString(e.action),
    bvn_token: (e) => tsvString(e.bvnToken),
    bvn_masked: (e) => tsvString(e.bvnMasked),
    holder_nin_token: (e) => tsvNullableString(e.holderNinToken),
    nuban_token: (e) => tsvNullableString(e.nubanToken),
    nuban_masked: (e) => tsvNullableString(e.nubanMasked),
    bank_code: (e) => tsvNullableString(e.bankCode),
    link_date: (e) => date('linkDate', e.linkDate),
  },
  delink: {
    msisdn: (e) => tsvString(e.msisdn),
    request_id: (e) => tsvString(e.requestId),
    action: (e) => tsvString(e.action),
    scope: (e) => tsvString(e.scope),
    actor: (e) => tsvString(e.actor),
    reason: (e) => tsvNullableString(e.reason),
    attempt: (e) => count('attempt', e.attempt ?? 0, 0xffff_ffff),
    linkage_id: (e) => tsvNullableString(e.linkageId),
    outcome: (e) => tsvNullableString(e.outcome),
    idempotency_key: (e) => tsvNullableString(e.idempotencyKey),
    operator: (e) => tsvNullableString(e.operator),
    linkage_count: (e) => String((e.linkages ?? []).length),
  },
  'recycled-sim': {
    sim_id: (e) => tsvString(e.simId),
    msisdn: (e) => tsvString(e.msisdn),
    action: (e) => tsvString(e.action),
    recycle_date: (e) => nullableDate('recycleDate', e.recycleDate),
    operator: (e) => tsvNullableString(e.operator),
    cleanup_status: (e) => tsvNullableString(e.cleanupStatus),
    linkage_count: (e) => String(e.linkages.length),
    actor: (e) => tsvString(e.actor),
    reason: (e) => tsvNullableString(e.reason),
  },
  verification: {
    msisdn: (e) => tsvString(e.msisdn),
    request_id: (e) => tsvString(e.requestId),
    organisation: (e) => tsvString(e.organisation),
    channel: (e) => tsvString(e.channel),
    verification_status: (e) => tsvString(e.verificationStatus),
    telecom_status: (e) => tsvNullableString(e.telecomStatus),
    lifecycle_status: (e) => tsvNullableString(e.lifecycleStatus),
    customer: (e) => tsvString(e.customer ?? ''),
  },
  'state-change': {
    msisdn: (e) => tsvString(e.msisdn),
    version: (e) => count('version', e.version, Number.MAX_SAFE_INTEGER),
    operator: (e) => tsvNullableString(e.operator),
    telecom_status: (e) => tsvNullableString(e.telecomStatus),
    status_date: (e) => nullableDate('statusDate', e.statusDate),
    reassignment_date: (e) => nullableDate('reassignmentDate', e.reassignmentDate),
    last_swapped_date: (e) => nullableDate('lastSwappedDate', e.lastSwappedDate),
    last_churned_date: (e) => nullableDate('lastChurnedDate', e.lastChurnedDate),
    last_reassigned_date: (e) => nullableDate('lastReassignedDate', e.lastReassignedDate),
    lifecycle_status: (e) => tsvString(e.lifecycleStatus),
    is_recycled: (e) => (e.isRecycled ? '1' : '0'),
    active_nin_linkages: (e) => count('activeNinLinkages', e.activeNinLinkages, 0xffff_ffff),
    active_bvn_linkages: (e) => count('activeBvnLinkages', e.activeBvnLinkages, 0xffff_ffff),
    cleanup_status: (e) => tsvString(e.cleanupStatus),
    can_assign_to_new_user: (e) => (e.canAssignToNewUser ? '1' : '0'),
    conflict_codes: (e) => tsvArray(e.conflicts.map((c) => c.code)),
    conflict_since: (e) => tsvArray(e.conflicts.map((c, i) => date(`conflicts[${i}].since`, c.since))),
    cause_topic: (e) => tsvString(e.causeTopic),
    cause_event_id: (e) => tsvString(e.causeEventId),
  },
  audit: {
    actor: (e) => tsvString(e.actor),
    organisation: (e) => tsvNullableString(e.organisation),
    action: (e) => tsvString(e.action),
    target: (e) => tsvNullableString(e.target),
    outcome: (e) => tsvString(e.outcome),
    details: (e) => tsvString(e.details),
    request_id: (e) => tsvNullableString(e.requestId),
    ip: (e) => tsvNullableString(e.ip),
  },
};

/** Each family's field encoders as an array, in FIELDS order. */
const ENCODERS = Object.fromEntries(
  Object.entries(FIELDS).map(([kind, fields]) => [kind, Object.values(fields)]),
) as unknown as { [K in HistoryKind]: Field<EventTypes[K]>[] };

/**
 * Each family's fields of the row being encoded, reused row after row (encoding is synchronous):
 * joined once into a flat line. A line built by `+=` would be a tree of a few dozen string pieces,
 * held until its batch is inserted; every garbage collection in between walked and copied them.
 */
const SCRATCH = Object.fromEntries(
  Object.entries(FIELDS).map(([kind, fields]) => [
    kind,
    new Array<string>(ENVELOPE_COLUMNS.length + Object.keys(fields).length).fill(''),
  ]),
) as Record<HistoryKind, string[]>;

/** The columns of each raw table's insert, in the order of the fields of its rows' lines. */
export const HISTORY_COLUMNS = Object.fromEntries(
  (Object.keys(FIELDS) as HistoryKind[]).map((kind) => [
    RAW_TABLES[kind],
    [...ENVELOPE_COLUMNS, ...Object.keys(FIELDS[kind])],
  ]),
) as unknown as Record<RawTable, readonly [string, ...string[]]>;

/**
 * The raw-table row of one decoded event, or the reason it cannot be stored. Every value ClickHouse
 * would parse is checked here, because one unparsable row would fail its whole batch forever.
 */
export function toHistoryRow<K extends HistoryKind>(
  kind: K,
  event: EventTypes[K],
  provenance: Provenance,
): RowResult {
  try {
    const encoders = ENCODERS[kind] as Field<EventTypes[K]>[];
    const fields = SCRATCH[kind];
    envelope(event, provenance, fields);
    const first = ENVELOPE_COLUMNS.length;
    for (let i = 0; i < encoders.length; i++) fields[first + i] = encoders[i]!(event);
    const msisdn = (event as { msisdn?: unknown }).msisdn;
    return {
      ok: true,
      value: {
        table: RAW_TABLES[kind],
        msisdn: typeof msisdn === 'string' ? msisdn : null,
        line: fields.join('\t'),
      },
    };
  } catch (err) {
    if (err instanceof RowError) return { ok: false, reason: err.message };
    throw err;
  }
}
