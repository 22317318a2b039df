import type { WorkflowLinkage } from '@hub/schemas';
import { isOld, linkagesOf, recycleDateOf, type StateView } from '../derive.ts';
import type { StateRecord } from '../record.ts';
import { type LinkageRef, linkageIdOf } from './model.ts';

/** The previous owner's linkages still active (linked before the last churn/reassignment, not cleared). */
export function staleLinkagesOf(
  view: Pick<StateView, 'recycleDate' | 'ninLinkages' | 'bvnLinkages'>,
): WorkflowLinkage[] {
  const out: WorkflowLinkage[] = [];
  for (const l of view.ninLinkages)
    if (l.clearedDate === null && isOld(l, view.recycleDate))
      out.push({ kind: 'NIN', token: l.token, masked: l.masked, linkDate: l.linkDate });
  for (const l of view.bvnLinkages)
    if (l.clearedDate === null && isOld(l, view.recycleDate))
      out.push({ kind: 'BVN', token: l.token, masked: l.masked, linkDate: l.linkDate });
  return out;
}

/** Whether a record has a stale linkage: the detection scan's test, without deriving the whole view. */
export function hasStaleLinkage(r: StateRecord): boolean {
  const recycle = recycleDateOf(r);
  if (recycle === null) return false;
  // Cheap pre-check: no linkage older than the recycle date at all.
  if (!r.nin.some((l) => l.linkDate < recycle) && !r.bvn.some((l) => l.linkDate < recycle)) return false;
  const links = linkagesOf(r);
  return [...links.nin, ...links.bvn].some((l) => l.clearedDate === null && isOld(l, recycle));
}

/**
 * Whether the state record shows the linkage cleared (UNLINK from its source, or a completed
 * delink). A linkage the record no longer holds (dropped under LINKAGE_LIMIT) counts as cleared:
 * there is nothing left on the number to clear.
 */
export function linkageCleared(
  view: Pick<StateView, 'ninLinkages' | 'bvnLinkages'>,
  ref: LinkageRef,
): boolean {
  const list = ref.kind === 'NIN' ? view.ninLinkages : view.bvnLinkages;
  const found = list.find((l) => linkageIdOf(ref.kind, l.token) === ref.id);
  return found === undefined || found.clearedDate !== null;
}
