import type { BvnLink, CleanupStatus, ConflictCode, LifecycleStatus, NinLink, StateView } from '@hub/state';
import { isOld } from '@hub/state';
import { type Confidence, confidenceOf } from './confidence.ts';

/** "+234…": the form the Reconix document shows. */
export const plusForm = (msisdn: string): string => `+${msisdn}`;

/** The Reconix MSISDN status response, field for field as the document shows it. */
export interface MsisdnStatus {
  msisdn: string;
  status: LifecycleStatus;
  is_recycled: boolean;
  active_nin_linkages: number;
  active_bvn_linkages: number;
  can_assign_to_new_user: boolean;
  cleanup_status: CleanupStatus;
  operator_code: string | null;
}

export function statusOf(view: StateView): MsisdnStatus {
  return {
    msisdn: plusForm(view.msisdn),
    status: view.lifecycleStatus,
    is_recycled: view.isRecycled,
    active_nin_linkages: view.activeNinLinkages,
    active_bvn_linkages: view.activeBvnLinkages,
    can_assign_to_new_user: view.canAssignToNewUser,
    cleanup_status: view.cleanupStatus,
    operator_code: view.operator,
  };
}

/** One linkage as shown to clients: masked, never the token. */
export interface LinkageOut {
  masked: string;
  link_date: string;
  active: boolean;
  cleared_date: string | null;
  /** Linked before the number's last churn/reassignment: a previous owner's. */
  old_owner: boolean;
  /** Active and a previous owner's. */
  stale: boolean;
}

export interface BvnLinkageOut extends LinkageOut {
  /** Whether NIBSS's holder NIN is among the number's active NINs; null when NIBSS did not send it. */
  holder_nin_matches: boolean | null;
}

export function linkageOut(link: NinLink, recycleDate: string | null): LinkageOut {
  const old = isOld(link, recycleDate);
  const active = link.clearedDate === null;
  return {
    masked: link.masked,
    link_date: link.linkDate,
    active,
    cleared_date: link.clearedDate,
    old_owner: old,
    stale: old && active,
  };
}

export function bvnLinkageOut(link: BvnLink, view: StateView): BvnLinkageOut {
  const activeNins = new Set(view.ninLinkages.filter((l) => l.clearedDate === null).map((l) => l.token));
  return {
    ...linkageOut(link, view.recycleDate),
    holder_nin_matches: link.holderNinToken === null ? null : activeNins.has(link.holderNinToken),
  };
}

/** The unified identity mapping of one number, with its confidence score. */
export interface IdentityMapping {
  msisdn: string;
  operator_code: string | null;
  telecom_status: string | null;
  status_date: string | null;
  lifecycle_status: LifecycleStatus;
  is_recycled: boolean;
  recycle_date: string | null;
  last_swapped_date: string | null;
  last_churned_date: string | null;
  last_reassigned_date: string | null;
  can_assign_to_new_user: boolean;
  cleanup_status: CleanupStatus;
  nin_linkages: LinkageOut[];
  bvn_linkages: BvnLinkageOut[];
  conflicts: { code: ConflictCode; since: string }[];
  confidence: number;
  reasons: Confidence['reasons'];
}

/** Active linkages only: the mapping says who the number belongs to now; history has its own route. */
export function mappingOf(view: StateView, today: string): IdentityMapping {
  const confidence = confidenceOf(view, today);
  return {
    msisdn: plusForm(view.msisdn),
    operator_code: view.operator,
    telecom_status: view.telecomStatus,
    status_date: view.statusDate,
    lifecycle_status: view.lifecycleStatus,
    is_recycled: view.isRecycled,
    recycle_date: view.recycleDate,
    last_swapped_date: view.lastSwappedDate,
    last_churned_date: view.lastChurnedDate,
    last_reassigned_date: view.lastReassignedDate,
    can_assign_to_new_user: view.canAssignToNewUser,
    cleanup_status: view.cleanupStatus,
    nin_linkages: view.ninLinkages
      .filter((l) => l.clearedDate === null)
      .map((l) => linkageOut(l, view.recycleDate)),
    bvn_linkages: view.bvnLinkages.filter((l) => l.clearedDate === null).map((l) => bvnLinkageOut(l, view)),
    conflicts: view.conflicts.map((c) => ({ code: c.code, since: c.since })),
    confidence: confidence.score,
    reasons: confidence.reasons,
  };
}

/** The answer to "is this NIN/BVN (by token) actively linked to this number?". */
export interface LinkageCheck {
  msisdn: string;
  /** The identifier's masked form, computed from the request: the raw value is never echoed. */
  masked: string;
  linked: boolean;
  /** Actively linked but a previous owner's (linked before the last churn/reassignment). */
  stale: boolean;
  link_date: string | null;
  /** Set when the identifier was linked once and has been cleared. */
  cleared_date: string | null;
  lifecycle_status: LifecycleStatus | null;
  active_linkages: number;
}

export function linkageCheckOf(
  msisdn: string,
  view: StateView | null,
  kind: 'NIN' | 'BVN',
  token: string,
  masked: string,
): LinkageCheck {
  const links: NinLink[] = view ? (kind === 'NIN' ? view.ninLinkages : view.bvnLinkages) : [];
  const link = links.find((l) => l.token === token) ?? null;
  const active = link !== null && link.clearedDate === null;
  return {
    msisdn: plusForm(msisdn),
    masked,
    linked: active,
    stale: link !== null && active && isOld(link, view?.recycleDate ?? null),
    link_date: link?.linkDate ?? null,
    cleared_date: link?.clearedDate ?? null,
    lifecycle_status: view?.lifecycleStatus ?? null,
    active_linkages: view ? (kind === 'NIN' ? view.activeNinLinkages : view.activeBvnLinkages) : 0,
  };
}
