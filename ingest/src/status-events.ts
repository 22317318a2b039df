import {
  allocatedOperator,
  dateToEpochMs,
  type NormalisedStatusUpdate,
  type StatusUpdateEvent,
} from '@hub/schemas';
import { contentEventId } from './event-ids.ts';
import type { Principal } from './principal.ts';

/** Why an operator may not report on a number, or null when it may. */
export function rangeViolation(principal: Principal, msisdn: string): string | null {
  if (principal.type === 'HUB') return null;
  const allocated = allocatedOperator(msisdn);
  if (principal.operatorCode && allocated?.code === principal.operatorCode) return null;
  return `is not in the number ranges allocated to ${principal.operatorCode ?? principal.organisation} (allocated to ${allocated?.code ?? 'no operator'})`;
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
