import { createHash } from 'node:crypto';
import type { DelinkEvent, RecycledSimEvent, WorkflowLinkage } from '@hub/schemas';

/**
 * The delink workflow's read model (docs/delink-workflow.md): what the projector builds from the
 * delink and recycled-SIMs topics, in topic order. Everything here is a pure function of the events,
 * so a replay of the topics rebuilds the same documents.
 */

export const DELINK_STATES = [
  'PENDING',
  'APPROVED',
  'REJECTED',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;
export type DelinkState = (typeof DELINK_STATES)[number];

/** States a request leaves no more. */
export const FINAL_STATES: readonly DelinkState[] = ['REJECTED', 'COMPLETED', 'CANCELLED'];

export const isOpen = (s: DelinkState): boolean => !FINAL_STATES.includes(s);

/** What each command may start from (DESIGN.md, "Recycled SIMs and the delink workflow"). */
export const ALLOWED_FROM = {
  APPROVED: ['PENDING'],
  REJECTED: ['PENDING'],
  CANCELLED: ['PENDING', 'APPROVED', 'PROCESSING'],
  PROCESSING: ['APPROVED'],
  DISPATCHED: ['PROCESSING'],
  FAILED: ['APPROVED', 'PROCESSING'],
  RETRIED: ['FAILED'],
  // All linkages cleared at their sources: done, whatever the dispatcher last recorded.
  COMPLETED: ['APPROVED', 'PROCESSING', 'FAILED'],
} as const satisfies Partial<Record<DelinkEvent['action'], readonly DelinkState[]>>;

const TARGET: Record<Exclude<DelinkEvent['action'], 'REQUESTED' | 'DISPATCHED'>, DelinkState> = {
  APPROVED: 'APPROVED',
  REJECTED: 'REJECTED',
  CANCELLED: 'CANCELLED',
  PROCESSING: 'PROCESSING',
  FAILED: 'FAILED',
  RETRIED: 'APPROVED',
  COMPLETED: 'COMPLETED',
};

export type LinkageKind = 'NIN' | 'BVN';

/** A linkage as the workflow names it: `nin:<token>` / `bvn:<token>`, masked for display. */
export interface LinkageRef extends WorkflowLinkage {
  id: string;
}

export const linkageIdOf = (kind: LinkageKind, token: string): string => `${kind.toLowerCase()}:${token}`;

export function refOf(l: WorkflowLinkage): LinkageRef {
  return { ...l, id: linkageIdOf(l.kind, l.token) };
}

export interface Transition {
  eventId: string;
  action: DelinkEvent['action'];
  from: DelinkState | null;
  to: DelinkState;
  actor: string;
  reason: string | null;
  /** Epoch ms the step occurred. */
  at: number;
  attempt: number;
  linkageId: string | null;
  outcome: string | null;
}

export type DispatchOutcome = 'ACCEPTED' | 'REFUSED' | 'UNAVAILABLE';

export interface Dispatch {
  linkageId: string;
  attempt: number;
  outcome: DispatchOutcome;
  reason: string | null;
  idempotencyKey: string;
  at: number;
}

export interface DelinkRequestDoc {
  id: string;
  msisdn: string;
  simId: string;
  operator: string | null;
  status: DelinkState;
  scope: DelinkEvent['scope'];
  linkages: LinkageRef[];
  reason: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  /** 0 until approved; +1 per retry. */
  attempt: number;
  dispatches: Dispatch[];
  transitions: Transition[];
  failureReason: string | null;
  completedAt: number | null;
}

export type Applied<D> = { applied: true; doc: D } | { applied: false; reason: string };

/** Which of `ids` an open request among `others` already covers. */
export function overlapping(others: readonly DelinkRequestDoc[], ids: readonly string[]): string[] {
  const covered = new Set<string>();
  for (const o of others) if (isOpen(o.status)) for (const l of o.linkages) covered.add(l.id);
  return ids.filter((id) => covered.has(id));
}

/**
 * Applies one delink event to its request (null: none yet). `sameNumber` are the other requests of
 * the number, for the one-open-request-per-linkage rule. Not applied: the reason, and the document
 * is left as it was (a command that lost a race, e.g. approve after cancel).
 */
export function applyDelinkEvent(
  doc: DelinkRequestDoc | null,
  e: DelinkEvent,
  sameNumber: readonly DelinkRequestDoc[],
): Applied<DelinkRequestDoc> {
  if (doc?.transitions.some((t) => t.eventId === e.eventId)) return { applied: false, reason: 'duplicate' };
  const attempt = e.attempt ?? 0;
  const step = (from: DelinkState | null, to: DelinkState): Transition => ({
    eventId: e.eventId,
    action: e.action,
    from,
    to,
    actor: e.actor,
    reason: e.reason,
    at: e.occurredAt,
    attempt,
    linkageId: e.linkageId ?? null,
    outcome: e.outcome ?? null,
  });
  if (e.action === 'REQUESTED') {
    if (doc) return { applied: false, reason: `request ${e.requestId} exists` };
    const linkages = (e.linkages ?? []).map(refOf);
    if (linkages.length === 0) return { applied: false, reason: 'a request names no linkage' };
    const dup = overlapping(
      sameNumber,
      linkages.map((l) => l.id),
    );
    if (dup.length > 0) return { applied: false, reason: `DUPLICATE_REQUEST: ${dup.join(', ')}` };
    return {
      applied: true,
      doc: {
        id: e.requestId,
        msisdn: e.msisdn,
        simId: simIdOf(e.msisdn),
        operator: e.operator ?? null,
        status: 'PENDING',
        scope: e.scope,
        linkages,
        reason: e.reason,
        createdBy: e.actor,
        createdAt: e.occurredAt,
        updatedAt: e.occurredAt,
        attempt: 0,
        dispatches: [],
        transitions: [step(null, 'PENDING')],
        failureReason: null,
        completedAt: null,
      },
    };
  }
  if (!doc) return { applied: false, reason: `request ${e.requestId} is unknown` };
  const allowed = ALLOWED_FROM[e.action] as readonly DelinkState[];
  if (!allowed.includes(doc.status)) {
    return { applied: false, reason: `ILLEGAL_TRANSITION: ${e.action} from ${doc.status}` };
  }
  if (
    (e.action === 'PROCESSING' || e.action === 'DISPATCHED' || e.action === 'FAILED') &&
    attempt !== doc.attempt
  )
    return { applied: false, reason: `attempt ${attempt} is not the current attempt ${doc.attempt}` };
  const next: DelinkRequestDoc = {
    ...doc,
    linkages: doc.linkages.map((l) => ({ ...l })),
    dispatches: doc.dispatches.map((d) => ({ ...d })),
    transitions: [...doc.transitions],
    updatedAt: Math.max(doc.updatedAt, e.occurredAt),
  };
  if (e.action === 'DISPATCHED') {
    const linkageId = e.linkageId ?? '';
    if (!doc.linkages.some((l) => l.id === linkageId))
      return { applied: false, reason: `linkage ${linkageId} is not part of the request` };
    if (doc.dispatches.some((d) => d.attempt === attempt && d.linkageId === linkageId))
      return { applied: false, reason: 'duplicate dispatch' };
    const outcome = (['ACCEPTED', 'REFUSED', 'UNAVAILABLE'] as const).find((o) => o === e.outcome);
    if (!outcome) return { applied: false, reason: `outcome '${e.outcome}' is unknown` };
    next.dispatches.push({
      linkageId,
      attempt,
      outcome,
      reason: e.reason,
      idempotencyKey: e.idempotencyKey ?? '',
      at: e.occurredAt,
    });
    next.transitions.push(step(doc.status, doc.status));
    return { applied: true, doc: next };
  }
  const to = TARGET[e.action];
  next.status = to;
  if (e.action === 'APPROVED') next.attempt = 1;
  if (e.action === 'RETRIED') {
    next.attempt = doc.attempt + 1;
    next.failureReason = null;
  }
  if (e.action === 'FAILED') next.failureReason = e.reason;
  if (e.action === 'COMPLETED') next.completedAt = e.occurredAt;
  next.transitions.push(step(doc.status, to));
  return { applied: true, doc: next };
}

/** Cleanup status of a registered recycled SIM (the Reconix vocabulary). */
export const CLEANUP_STATES = ['pending', 'in_progress', 'completed'] as const;
export type RegistryCleanupStatus = (typeof CLEANUP_STATES)[number];

/** Legal cleanup-status changes; `completed` also needs the state record to show no stale linkage. */
export const CLEANUP_TRANSITIONS: Record<RegistryCleanupStatus, readonly RegistryCleanupStatus[]> = {
  pending: ['in_progress', 'completed'],
  in_progress: ['pending', 'completed'],
  completed: [],
};

export interface CleanupStep {
  eventId: string;
  action: RecycledSimEvent['action'];
  from: RegistryCleanupStatus | null;
  to: RegistryCleanupStatus;
  actor: string;
  reason: string | null;
  at: number;
}

export interface RecycledSimDoc {
  id: string;
  msisdn: string;
  recycleDate: string | null;
  operator: string | null;
  /** REGISTERED once an operator or Admin registered it, else DETECTED (scan or state builder). */
  origin: 'REGISTERED' | 'DETECTED';
  registeredBy: string | null;
  firstSeenAt: number;
  cleanupStatus: RegistryCleanupStatus;
  /** The previous owner's linkages when it was registered or detected. */
  linkages: LinkageRef[];
  history: CleanupStep[];
}

/** One registry entry per number: a UUID (v5 layout) from the MSISDN, so a number is flagged once. */
export function simIdOf(msisdn: string): string {
  const h = createHash('sha1').update(`recycled-sim:${msisdn}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function applySimEvent(doc: RecycledSimDoc | null, e: RecycledSimEvent): Applied<RecycledSimDoc> {
  if (doc?.history.some((h) => h.eventId === e.eventId)) return { applied: false, reason: 'duplicate' };
  const step = (from: RegistryCleanupStatus | null, to: RegistryCleanupStatus): CleanupStep => ({
    eventId: e.eventId,
    action: e.action,
    from,
    to,
    actor: e.actor,
    reason: e.reason,
    at: e.occurredAt,
  });
  if (e.action === 'DETECTED' || e.action === 'REGISTERED') {
    if (doc && (e.action === 'DETECTED' || doc.origin === 'REGISTERED'))
      return { applied: false, reason: `ALREADY_REGISTERED: ${e.msisdn} is in the registry (${doc.origin})` };
    if (doc) {
      // A detected number confirmed by an operator or Admin: its registration's facts win.
      return {
        applied: true,
        doc: {
          ...doc,
          origin: 'REGISTERED',
          registeredBy: e.actor,
          recycleDate: e.recycleDate ?? doc.recycleDate,
          operator: e.operator ?? doc.operator,
          linkages: e.linkages.length > 0 ? e.linkages.map(refOf) : doc.linkages,
          history: [...doc.history, step(doc.cleanupStatus, doc.cleanupStatus)],
        },
      };
    }
    return {
      applied: true,
      doc: {
        id: e.simId,
        msisdn: e.msisdn,
        recycleDate: e.recycleDate,
        operator: e.operator,
        origin: e.action,
        registeredBy: e.action === 'REGISTERED' ? e.actor : null,
        firstSeenAt: e.occurredAt,
        cleanupStatus: 'pending',
        linkages: e.linkages.map(refOf),
        history: [step(null, 'pending')],
      },
    };
  }
  if (!doc) return { applied: false, reason: `${e.msisdn} is not in the registry` };
  const to = CLEANUP_STATES.find((s) => s === e.cleanupStatus);
  if (!to) return { applied: false, reason: `cleanup status '${e.cleanupStatus}' is unknown` };
  if (!CLEANUP_TRANSITIONS[doc.cleanupStatus].includes(to))
    return { applied: false, reason: `ILLEGAL_TRANSITION: ${doc.cleanupStatus} to ${to}` };
  return {
    applied: true,
    doc: { ...doc, cleanupStatus: to, history: [...doc.history, step(doc.cleanupStatus, to)] },
  };
}
