import { checkDate, type EventTypes } from '@hub/schemas';
import { type HistoryKind, RAW_TABLES, type RawTable } from '@hub/state/history/tables';

/** Where a row came from: its resume point in Kafka. */
export interface Provenance {
  topic: string;
  partition: number;
  /** Decimal string: offsets are int64. */
  offset: string;
}

export type RowValue = string | number | null | string[];
export type Row = Record<string, RowValue>;

/** One row ready for `INSERT … FORMAT JSONEachRow` into its raw table. */
export interface HistoryRow {
  table: RawTable;
  row: Row;
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

function date(field: string, value: string): string {
  const check = checkDate(value);
  if (!check.ok) throw new RowError(`${field} ${check.reason}`);
  if (value < MIN_DATE || value > MAX_DATE) {
    throw new RowError(`${field} '${value}' is outside the storable range ${MIN_DATE}..${MAX_DATE}`);
  }
  return value;
}

function optionalDate(field: string, value: string | null): string | null {
  return value === null ? null : date(field, value);
}

function epochSeconds(field: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS) {
    throw new RowError(`${field} ${ms} is not epoch milliseconds between 1970 and 2105`);
  }
  return Math.floor(ms / 1000);
}

function count(field: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RowError(`${field} ${value} is not a whole number between 0 and ${max}`);
  }
  return value;
}

const SECONDS_PER_DAY = 86_400;
/** YYYY-MM-DD by UTC day number; at most one entry per day of 1970..2105 (~50 k), as times are checked first. */
const utcDates = new Map<number, string>();

/** The UTC date of epoch seconds (0..MAX_EPOCH_MS / 1000): formatted once per day, not per row. */
export function utcDate(seconds: number): string {
  const day = Math.floor(seconds / SECONDS_PER_DAY);
  let date = utcDates.get(day);
  if (date === undefined) {
    date = new Date(day * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
    utcDates.set(day, date);
  }
  return date;
}

function envelope(event: EventTypes[HistoryKind], p: Provenance): Row {
  if (event.eventId.length === 0) throw new RowError('eventId is empty');
  const occurred = epochSeconds('occurredAt', event.occurredAt);
  const received = epochSeconds('receivedAt', event.receivedAt);
  return {
    event_id: event.eventId,
    source: event.source,
    kafka_topic: p.topic,
    kafka_partition: p.partition,
    kafka_offset: p.offset,
    occurred_at: occurred,
    received_at: received,
    occurred_date: utcDate(occurred),
    received_date: utcDate(received),
  };
}

type Mapper<K extends HistoryKind> = (event: EventTypes[K]) => Row;

/** Column values of each family beyond the envelope. Tokens and masks only: events carry no raw NIN/BVN. */
const MAPPERS: { [K in HistoryKind]: Mapper<K> } = {
  'status-update': (e) => ({
    msisdn: e.msisdn,
    operator: e.operator,
    status: e.status,
    occurrence_date: date('occurrenceDate', e.occurrenceDate),
    reassignment_date: optionalDate('reassignmentDate', e.reassignmentDate),
    remarks: e.remarks,
    batch_id: e.batchId ?? null,
  }),
  'nin-linkage': (e) => ({
    msisdn: e.msisdn,
    action: e.action,
    nin_token: e.ninToken,
    nin_masked: e.ninMasked,
    link_date: date('linkDate', e.linkDate),
  }),
  'bvn-linkage': (e) => ({
    msisdn: e.msisdn,
    action: e.action,
    bvn_token: e.bvnToken,
    bvn_masked: e.bvnMasked,
    holder_nin_token: e.holderNinToken,
    nuban_token: e.nubanToken,
    nuban_masked: e.nubanMasked,
    bank_code: e.bankCode,
    link_date: date('linkDate', e.linkDate),
  }),
  delink: (e) => ({
    msisdn: e.msisdn,
    request_id: e.requestId,
    action: e.action,
    scope: e.scope,
    actor: e.actor,
    reason: e.reason,
    attempt: count('attempt', e.attempt ?? 0, 0xffff_ffff),
    linkage_id: e.linkageId ?? null,
    outcome: e.outcome ?? null,
    idempotency_key: e.idempotencyKey ?? null,
    operator: e.operator ?? null,
    linkage_count: (e.linkages ?? []).length,
  }),
  'recycled-sim': (e) => ({
    sim_id: e.simId,
    msisdn: e.msisdn,
    action: e.action,
    recycle_date: optionalDate('recycleDate', e.recycleDate),
    operator: e.operator,
    cleanup_status: e.cleanupStatus,
    linkage_count: e.linkages.length,
    actor: e.actor,
    reason: e.reason,
  }),
  verification: (e) => ({
    msisdn: e.msisdn,
    request_id: e.requestId,
    organisation: e.organisation,
    channel: e.channel,
    verification_status: e.verificationStatus,
    telecom_status: e.telecomStatus,
    lifecycle_status: e.lifecycleStatus,
    customer: e.customer ?? '',
  }),
  'state-change': (e) => ({
    msisdn: e.msisdn,
    // UInt64 column; a decimal string keeps JSON exact for any safe integer.
    version: String(count('version', e.version, Number.MAX_SAFE_INTEGER)),
    operator: e.operator,
    telecom_status: e.telecomStatus,
    status_date: optionalDate('statusDate', e.statusDate),
    reassignment_date: optionalDate('reassignmentDate', e.reassignmentDate),
    last_swapped_date: optionalDate('lastSwappedDate', e.lastSwappedDate),
    last_churned_date: optionalDate('lastChurnedDate', e.lastChurnedDate),
    last_reassigned_date: optionalDate('lastReassignedDate', e.lastReassignedDate),
    lifecycle_status: e.lifecycleStatus,
    is_recycled: e.isRecycled ? 1 : 0,
    active_nin_linkages: count('activeNinLinkages', e.activeNinLinkages, 0xffff_ffff),
    active_bvn_linkages: count('activeBvnLinkages', e.activeBvnLinkages, 0xffff_ffff),
    cleanup_status: e.cleanupStatus,
    can_assign_to_new_user: e.canAssignToNewUser ? 1 : 0,
    conflict_codes: e.conflicts.map((c) => c.code),
    conflict_since: e.conflicts.map((c, i) => date(`conflicts[${i}].since`, c.since)),
    cause_topic: e.causeTopic,
    cause_event_id: e.causeEventId,
  }),
  audit: (e) => ({
    actor: e.actor,
    organisation: e.organisation,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    details: e.details,
    request_id: e.requestId,
    ip: e.ip,
  }),
};

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
    const mapper = MAPPERS[kind] as Mapper<K>;
    // The family's columns added onto the envelope's own fresh object, in the same order a spread
    // of both would give: Node 20's V8 takes 30–40 µs to spread a state change's 28 columns into a
    // new literal, twenty times this (it was most of the history sink's CPU).
    const row = Object.assign(envelope(event, provenance), mapper(event));
    return { ok: true, value: { table: RAW_TABLES[kind], row } };
  } catch (err) {
    if (err instanceof RowError) return { ok: false, reason: err.message };
    throw err;
  }
}
