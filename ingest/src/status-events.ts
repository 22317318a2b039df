import {
  allocatedOperator,
  checkStatusUpdateEvent,
  dateToEpochMs,
  type NormalisedStatusUpdate,
  type StatusUpdateEvent,
} from '@hub/schemas';
import { contentEventId } from './event-ids.ts';
import type { Principal } from './principal.ts';

/**
 * Why an operator may not report on a number, or null when it may: the number is in its allocated
 * ranges, or its current state names the operator as the serving one (ported in).
 */
export function rangeViolation(
  principal: Principal,
  msisdn: string,
  servingOperator: string | null = null,
): string | null {
  if (principal.type === 'HUB') return null;
  const allocated = allocatedOperator(msisdn);
  if (principal.ranges && principal.ranges.length > 0) {
    if (principal.ranges.some((prefix) => msisdn.slice(3).startsWith(prefix))) return null;
  } else if (principal.operatorCode && allocated?.code === principal.operatorCode) return null;
  if (principal.operatorCode && servingOperator === principal.operatorCode) return null;
  return `is not in the number ranges allocated to ${principal.operatorCode ?? principal.organisation} (allocated to ${allocated?.code ?? 'no operator'}${servingOperator ? `, served by ${servingOperator}` : ''})`;
}

export function toStatusEvent(
  u: NormalisedStatusUpdate,
  operator: string,
  source: string,
  receivedAt: number,
  batchId: string | null,
): StatusUpdateEvent {
  return {
    eventId: contentEventId(
      'status',
      operator,
      u.msisdn,
      u.status,
      u.occurrenceDate,
      u.reassignmentDate,
      u.remarks,
    ),
    source,
    operator,
    msisdn: u.msisdn,
    status: u.status,
    occurrenceDate: u.occurrenceDate,
    reassignmentDate: u.reassignmentDate,
    remarks: u.remarks,
    batchId,
    occurredAt: dateToEpochMs(u.occurrenceDate),
    receivedAt,
  };
}

/** The TIRMS request field each status event field comes from. */
const REQUEST_FIELDS: Record<string, string> = {
  occurrenceDate: 'occurrenceOfStatusDate',
  occurredAt: 'occurrenceOfStatusDate',
  receivedAt: '',
};

/**
 * The built event against the validation contract the state machine applies
 * (schemas/src/contract.ts), as a problem naming the request field, or null. The request checks
 * (checkStatusUpdate) use the same rules; this also covers what ingest adds (the operator, from
 * the credential or a file row), so nothing is acknowledged that would then be dead-lettered.
 */
export function statusEventProblem(event: StatusUpdateEvent): { field: string; message: string } | null {
  const p = checkStatusUpdateEvent(event);
  if (p === null) return null;
  return { field: REQUEST_FIELDS[p.field] ?? p.field, message: p.message };
}
