import type { DelinkEvent, DelinkScope, RecycledSimEvent } from '@hub/schemas';
import type { DelinkRequestDoc, RegistryCleanupStatus } from '@hub/state/workflow/model';

/** The scope a request's COMPLETED carries for the state record: the kinds of linkage it named. */
export function scopeOf(doc: Pick<DelinkRequestDoc, 'linkages'>): DelinkScope {
  const kinds = new Set(doc.linkages.map((l) => l.kind));
  if (kinds.size === 2) return 'ALL';
  return kinds.has('NIN') ? 'NIN' : 'BVN';
}

/** A workflow step on an existing request; ids are derived, so a step re-sent after a crash is one event. */
export function stepOf(
  doc: DelinkRequestDoc,
  action: DelinkEvent['action'],
  eventId: string,
  now: number,
  extra: Partial<DelinkEvent> = {},
): DelinkEvent {
  return {
    eventId,
    source: 'DISPATCHER',
    requestId: doc.id,
    msisdn: doc.msisdn,
    action,
    scope: doc.scope,
    actor: 'system:delink-dispatcher',
    reason: null,
    occurredAt: now,
    receivedAt: now,
    linkages: [],
    attempt: doc.attempt,
    linkageId: null,
    outcome: null,
    idempotencyKey: null,
    operator: null,
    ...extra,
  };
}

export function cleanupOf(
  doc: Pick<DelinkRequestDoc, 'simId' | 'msisdn'>,
  status: RegistryCleanupStatus,
  eventId: string,
  reason: string,
  now: number,
): RecycledSimEvent {
  return {
    eventId,
    source: 'DISPATCHER',
    simId: doc.simId,
    msisdn: doc.msisdn,
    action: 'CLEANUP_STATUS_CHANGED',
    recycleDate: null,
    operator: null,
    cleanupStatus: status,
    linkages: [],
    actor: 'system:delink-dispatcher',
    reason,
    occurredAt: now,
    receivedAt: now,
  };
}
