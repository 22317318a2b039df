import { z } from '@hono/zod-openapi';
import type { DelinkRequestDoc, RecycledSimDoc, StateView } from '@hub/state';
import { staleLinkagesOf } from '@hub/state';
import { plusForm, statusOf } from '../identity/mapping.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const LinkageOut = z
  .object({
    id: z
      .string()
      .openapi({ description: 'Name of the linkage in delink requests', example: 'nin:9f1c2e4d5a6b7c8d' }),
    type: z.enum(['NIN', 'BVN']),
    masked: z.string().openapi({ example: '*******1234' }),
    linked_since: z.string().openapi({ example: '2019-06-01' }),
  })
  .openapi('StaleLinkage');

export const CLEANUP = ['pending', 'in_progress', 'completed'] as const;

export const RecycledSimSummary = z
  .object({
    id: z.string().uuid().openapi({ example: '1b4e28ba-2fa1-51d2-883f-0016d3cca427' }),
    msisdn: z.string().openapi({ example: '+2348031234567' }),
    recycle_date: z.string().nullable().openapi({ example: '2024-03-01' }),
    operator_code: z.string().nullable().openapi({ example: 'MTN' }),
    cleanup_status: z.enum(CLEANUP).openapi({ example: 'pending' }),
    origin: z
      .enum(['REGISTERED', 'DETECTED'])
      .openapi({ description: 'Registered by an operator/Admin, or flagged by detection' }),
    registered_by: z.string().nullable().openapi({ example: 'user:3f6c…' }),
    first_seen_at: z.string().openapi({ example: '2026-12-01T10:00:00.000Z' }),
    stale_linkages_at_registration: z.number().int().openapi({ example: 2 }),
  })
  .openapi('RecycledSim');

export function simSummary(d: RecycledSimDoc) {
  return {
    id: d.id,
    msisdn: plusForm(d.msisdn),
    recycle_date: d.recycleDate,
    operator_code: d.operator,
    cleanup_status: d.cleanupStatus,
    origin: d.origin,
    registered_by: d.registeredBy,
    first_seen_at: iso(d.firstSeenAt)!,
    stale_linkages_at_registration: d.linkages.length,
  };
}

export const MsisdnStatusOut = z
  .object({
    msisdn: z.string(),
    status: z.enum(['ACTIVE', 'RECYCLED', 'CONFLICTED', 'BLOCKED', 'AVAILABLE']),
    is_recycled: z.boolean(),
    active_nin_linkages: z.number().int(),
    active_bvn_linkages: z.number().int(),
    can_assign_to_new_user: z.boolean(),
    cleanup_status: z.enum(['not_required', 'pending', 'in_progress', 'completed']),
    operator_code: z.string().nullable(),
  })
  .openapi('RecycledSimStatus', {
    example: {
      msisdn: '+2348031234567',
      status: 'RECYCLED',
      is_recycled: true,
      active_nin_linkages: 1,
      active_bvn_linkages: 1,
      can_assign_to_new_user: false,
      cleanup_status: 'pending',
      operator_code: 'MTN',
    },
  });

export const TransitionOut = z
  .object({
    action: z.string().openapi({ example: 'APPROVED' }),
    from: z.string().nullable().openapi({ example: 'PENDING' }),
    to: z.string().openapi({ example: 'APPROVED' }),
    actor: z.string().openapi({ example: 'user:8d2f…' }),
    reason: z.string().nullable().openapi({ example: 'verified with the operator' }),
    at: z.string().openapi({ example: '2026-12-01T10:05:00.000Z' }),
    attempt: z.number().int(),
    linkage_id: z.string().nullable(),
    outcome: z
      .string()
      .nullable()
      .openapi({ description: 'DISPATCHED steps: ACCEPTED, REFUSED or UNAVAILABLE' }),
  })
  .openapi('DelinkTransition');

export const DelinkRequestOut = z
  .object({
    id: z.string().uuid(),
    msisdn: z.string().openapi({ example: '+2348031234567' }),
    recycled_sim_id: z.string().uuid(),
    operator_code: z.string().nullable(),
    status: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED']),
    linkages: z.array(LinkageOut),
    reason: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    attempt: z.number().int().openapi({ description: 'Dispatch attempt: 0 before approval, +1 per retry' }),
    failure_reason: z.string().nullable().openapi({ example: 'NIMC: linkage is under a legal hold' }),
    completed_at: z.string().nullable(),
  })
  .openapi('DelinkRequest');

export const DelinkRequestDetail = DelinkRequestOut.extend({
  dispatches: z.array(
    z.object({
      linkage_id: z.string(),
      attempt: z.number().int(),
      outcome: z.enum(['ACCEPTED', 'REFUSED', 'UNAVAILABLE']),
      reason: z.string().nullable(),
      idempotency_key: z.string(),
      at: z.string(),
    }),
  ),
  transitions: z.array(TransitionOut),
}).openapi('DelinkRequestDetail');

const linkageOut = (l: { id: string; kind: 'NIN' | 'BVN'; masked: string; linkDate: string }) => ({
  id: l.id,
  type: l.kind,
  masked: l.masked,
  linked_since: l.linkDate,
});

export function requestOut(d: DelinkRequestDoc) {
  return {
    id: d.id,
    msisdn: plusForm(d.msisdn),
    recycled_sim_id: d.simId,
    operator_code: d.operator,
    status: d.status,
    linkages: d.linkages.map(linkageOut),
    reason: d.reason,
    created_by: d.createdBy,
    created_at: iso(d.createdAt)!,
    updated_at: iso(d.updatedAt)!,
    attempt: d.attempt,
    failure_reason: d.failureReason,
    completed_at: iso(d.completedAt),
  };
}

export function requestDetail(d: DelinkRequestDoc) {
  return {
    ...requestOut(d),
    dispatches: d.dispatches.map((x) => ({
      linkage_id: x.linkageId,
      attempt: x.attempt,
      outcome: x.outcome,
      reason: x.reason,
      idempotency_key: x.idempotencyKey,
      at: iso(x.at)!,
    })),
    transitions: d.transitions.map((t) => ({
      action: t.action,
      from: t.from,
      to: t.to,
      actor: t.actor,
      reason: t.reason,
      at: iso(t.at)!,
      attempt: t.attempt,
      linkage_id: t.linkageId,
      outcome: t.outcome,
    })),
  };
}

export const RecycledSimDetail = RecycledSimSummary.extend({
  status: MsisdnStatusOut,
  stale_linkages: z
    .array(LinkageOut)
    .openapi({ description: "The previous owner's linkages still active now" }),
  delink_requests: z.array(DelinkRequestOut),
  cleanup_history: z.array(
    z.object({
      action: z.string().openapi({ example: 'CLEANUP_STATUS_CHANGED' }),
      from: z.string().nullable(),
      to: z.string(),
      actor: z.string(),
      reason: z.string().nullable(),
      at: z.string(),
    }),
  ),
}).openapi('RecycledSimDetail');

export function simDetail(d: RecycledSimDoc, view: StateView, requests: DelinkRequestDoc[]) {
  return {
    ...simSummary(d),
    status: statusOf(view),
    stale_linkages: staleLinkagesOf(view).map((l) =>
      linkageOut({ ...l, id: `${l.kind.toLowerCase()}:${l.token}` }),
    ),
    delink_requests: requests.map(requestOut),
    cleanup_history: d.history.map((h) => ({
      action: h.action,
      from: h.from,
      to: h.to,
      actor: h.actor,
      reason: h.reason,
      at: iso(h.at)!,
    })),
  };
}
