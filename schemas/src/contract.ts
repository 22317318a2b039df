import { checkDate, type DateCheck, todayInLagos } from './dates.ts';
import type {
  BvnLinkageEvent,
  DelinkEvent,
  DelinkScope,
  NinLinkageEvent,
  StatusUpdateEvent,
} from './events.ts';
import { TELECOM_STATUSES } from './events.ts';

/**
 * The one validation contract for the four fact events (status update, NIN linkage, BVN linkage,
 * delink): what ingest acknowledges (HTTP, file, and what a direct Kafka producer may write) is
 * exactly what the state machine applies and the history sink stores. Ingest checks request fields
 * with the same primitives (checkEventDate, ...) and names its own field in a 400 / rejected-rows
 * report; the state machine (state/src/machine.ts validate) applies checkFactEvent to every event
 * it consumes and a refused event is dead-lettered with the reason.
 *
 * Stricter rules that depend on when a record arrives (no occurrence or link date in the future)
 * are ingest's alone: a replay of the topics years later must apply the same events.
 */

/**
 * Earliest and latest dates the hub accepts in an event: what every store can hold. The state
 * record keeps dates as u16 days since 1990-01-01 (to 2169-06-06); ClickHouse's Date and DateTime
 * end in 2105/2106. No Nigerian mobile number had a status or linkage before 1990.
 */
export const EVENT_DATE_MIN = '1990-01-01';
export const EVENT_DATE_MAX = '2105-12-31';

/** Epoch-millisecond bounds of occurredAt / receivedAt (the end of EVENT_DATE_MAX, Lagos time). */
export const EVENT_TIME_MIN_MS = Date.parse(`${EVENT_DATE_MIN}T00:00:00Z`) - 3_600_000;
export const EVENT_TIME_MAX_MS = Date.parse(`${EVENT_DATE_MAX}T23:59:59.999Z`) - 3_600_000;

/** Longest operator code or delink request id, in characters. */
export const EVENT_TEXT_LIMIT = 64;

/** Longest status remarks, in characters (the TIRMS field limit). */
export const REMARKS_LIMIT = 500;

export const DELINK_SCOPE_VALUES: readonly DelinkScope[] = ['ALL', 'NIN', 'BVN'];

const TOKEN_RE = /^[0-9a-f]{16}$/;
const MASK_RE = /^\*{7}\d{4}$/;
const NUBAN_MASK_RE = /^\*{6}\d{4}$/;
const BANK_CODE_RE = /^\d{3,6}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One refused field: `field` is the event field's name (ingest maps it to its request field). */
export interface ContractProblem {
  field: string;
  message: string;
}

/** A real YYYY-MM-DD calendar date within EVENT_DATE_MIN..EVENT_DATE_MAX. */
export function checkEventDate(value: unknown): DateCheck {
  const c = checkDate(value);
  if (!c.ok) return c;
  if (c.date < EVENT_DATE_MIN || c.date > EVENT_DATE_MAX) {
    return {
      ok: false,
      reason: `'${c.date}' is outside the supported range ${EVENT_DATE_MIN}..${EVENT_DATE_MAX}`,
    };
  }
  return c;
}

/** A non-empty, well-formed text of at most `limit` characters, or why not. */
export function checkEventText(value: unknown, limit = EVENT_TEXT_LIMIT): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > limit) return `is longer than ${limit} characters`;
  if (LONE_SURROGATE.test(value)) return 'is not well-formed text';
  return null;
}

type Check = ContractProblem | null;

const problem = (field: string, message: string): ContractProblem => ({ field, message });

function date(field: string, value: unknown): Check {
  const c = checkEventDate(value);
  return c.ok ? null : problem(field, c.reason);
}

function text(field: string, value: unknown, limit = EVENT_TEXT_LIMIT): Check {
  const reason = checkEventText(value, limit);
  return reason ? problem(field, reason) : null;
}

function token(field: string, value: unknown): Check {
  return typeof value === 'string' && TOKEN_RE.test(value)
    ? null
    : problem(field, `must be 16 lowercase hex characters, got '${String(value).slice(0, 40)}'`);
}

function masked(field: string, value: unknown, stars = 7): Check {
  const re = stars === 7 ? MASK_RE : NUBAN_MASK_RE;
  return typeof value === 'string' && re.test(value)
    ? null
    : problem(
        field,
        `must be ${stars} '*' and the last 4 digits (e.g. ${'*'.repeat(stars)}1234), got '${String(value).slice(0, 40)}'`,
      );
}

function instant(field: string, value: unknown): Check {
  return typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= EVENT_TIME_MIN_MS &&
    value <= EVENT_TIME_MAX_MS
    ? null
    : problem(
        field,
        `must be epoch milliseconds within ${EVENT_DATE_MIN}..${EVENT_DATE_MAX}, got ${String(value)}`,
      );
}

function envelope(e: { eventId: unknown; occurredAt: unknown; receivedAt: unknown }): Check {
  if (typeof e.eventId !== 'string' || e.eventId.length === 0)
    return problem('eventId', 'must be a non-empty string');
  return instant('occurredAt', e.occurredAt) ?? instant('receivedAt', e.receivedAt);
}

function linkAction(value: unknown): Check {
  return value === 'LINK' || value === 'UNLINK'
    ? null
    : problem('action', `'${String(value)}' is not LINK or UNLINK`);
}

export function checkStatusUpdateEvent(e: StatusUpdateEvent): Check {
  if (!(TELECOM_STATUSES as readonly string[]).includes(e.status))
    return problem('status', `'${e.status}' is unknown`);
  return (
    text('operator', e.operator) ??
    date('occurrenceDate', e.occurrenceDate) ??
    (e.reassignmentDate === null ? null : date('reassignmentDate', e.reassignmentDate)) ??
    (e.remarks === null || (typeof e.remarks === 'string' && e.remarks.length <= REMARKS_LIMIT)
      ? null
      : problem('remarks', `must be at most ${REMARKS_LIMIT} characters`)) ??
    envelope(e)
  );
}

export function checkNinLinkageEvent(e: NinLinkageEvent): Check {
  return (
    linkAction(e.action) ??
    token('ninToken', e.ninToken) ??
    masked('ninMasked', e.ninMasked) ??
    date('linkDate', e.linkDate) ??
    envelope(e)
  );
}

export function checkBvnLinkageEvent(e: BvnLinkageEvent): Check {
  return (
    linkAction(e.action) ??
    token('bvnToken', e.bvnToken) ??
    masked('bvnMasked', e.bvnMasked) ??
    (e.holderNinToken === null ? null : token('holderNinToken', e.holderNinToken)) ??
    (e.nubanToken === null ? null : token('nubanToken', e.nubanToken)) ??
    (e.nubanMasked === null ? null : masked('nubanMasked', e.nubanMasked, 6)) ??
    (e.bankCode === null || (typeof e.bankCode === 'string' && BANK_CODE_RE.test(e.bankCode))
      ? null
      : problem('bankCode', 'must be 3 to 6 digits')) ??
    date('linkDate', e.linkDate) ??
    envelope(e)
  );
}

export function checkDelinkEvent(e: DelinkEvent): Check {
  if (!DELINK_SCOPE_VALUES.includes(e.scope)) return problem('scope', `'${e.scope}' is unknown`);
  const env = envelope(e);
  if (env) return env;
  return (
    text('requestId', e.requestId) ??
    // The completion is stored as its Lagos calendar date.
    (e.action === 'COMPLETED' ? date('occurredAt', todayInLagos(e.occurredAt)) : null)
  );
}

export type FactEvent =
  | { kind: 'status-update'; event: StatusUpdateEvent }
  | { kind: 'nin-linkage'; event: NinLinkageEvent }
  | { kind: 'bvn-linkage'; event: BvnLinkageEvent }
  | { kind: 'delink'; event: DelinkEvent };

/** The contract's verdict on one fact event: null when it is accepted, else the first refused field. */
export function checkFactEvent(f: FactEvent): Check {
  switch (f.kind) {
    case 'status-update':
      return checkStatusUpdateEvent(f.event);
    case 'nin-linkage':
      return checkNinLinkageEvent(f.event);
    case 'bvn-linkage':
      return checkBvnLinkageEvent(f.event);
    case 'delink':
      return checkDelinkEvent(f.event);
  }
}

/** "field message", as a dead letter's reason. */
export function describeProblem(p: ContractProblem): string {
  return `${p.field} ${p.message}`;
}
