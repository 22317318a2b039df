import type { Prng } from './prng.ts';
import type { TruthEvent } from './truth.ts';

/** How far (in deliveries of the same number) a late event or a duplicate may be pushed back. */
const MAX_SHIFT = 3;

/**
 * Identity of the thing an event changes, for linkages: the state model applies linkage events in
 * arrival order per token, so two events of one token must never swap places.
 */
function tokenKey(e: TruthEvent): string | null {
  if (e.kind === 'nin-linkage') return `nin:${e.nin}`;
  if (e.kind === 'bvn-linkage') return `bvn:${e.bvn}`;
  return null;
}

/**
 * May event `e` be delivered after `other`, which truly happened after it, without changing the
 * final state the state model computes? Status events are ordered by date, so they may pass
 * anything but a delink; a linkage may not pass a later event of its own token. Nothing passes a
 * delink event: delink clearing is judged by dates and no longer depends on arrival order, but the
 * open request follows the delink topic's own order, and keeping the sample's draws unchanged keeps
 * every seed's files as they were.
 */
function mayPass(e: TruthEvent, other: TruthEvent): boolean {
  if (other.kind === 'delink') return false;
  const key = tokenKey(e);
  return key === null || key !== tokenKey(other);
}

export interface ArrivalRates {
  late: number;
  duplicate: number;
}

export interface Arrival {
  order: number[];
  late: number;
  duplicates: number;
}

/**
 * Delivery order for one number's life: chronological, then a share of events moved behind a newer
 * event (late) and a share delivered a second time (duplicate), both only where the state model's
 * answer cannot depend on it — so the expected state stays the truth of the simulated life.
 */
export function arrivalOrder(truth: readonly TruthEvent[], rng: Prng, rates: ArrivalRates): Arrival {
  const order = truth.map((_, i) => i);
  const at = (pos: number): TruthEvent => {
    const e = truth[order[pos] ?? -1];
    if (!e) throw new Error(`arrival position ${pos} out of range`);
    return e;
  };
  let late = 0;
  for (let i = 0; i < truth.length; i++) {
    if (!rng.chance(rates.late)) continue;
    const pos = order.indexOf(i);
    const e = at(pos);
    if (e.kind === 'delink') continue;
    // Furthest position it may move to, and the first position where it is really late.
    let limit = pos;
    let firstNewer = -1;
    while (limit + 1 < order.length && limit + 1 <= pos + MAX_SHIFT && mayPass(e, at(limit + 1))) {
      limit++;
      if (firstNewer < 0 && at(limit).day > e.day) firstNewer = limit;
    }
    if (firstNewer < 0) continue;
    const target = rng.int(firstNewer, limit);
    order.splice(pos, 1);
    order.splice(target, 0, i);
    late++;
  }

  let duplicates = 0;
  const lastDelink = truth.reduce((last, e, i) => (e.kind === 'delink' ? i : last), -1);
  for (let i = 0; i < truth.length; i++) {
    if (!rng.chance(rates.duplicate)) continue;
    const e = truth[i];
    if (!e) continue;
    // An earlier step of a delink request delivered again would reopen it; only the last may repeat.
    if (e.kind === 'delink' && i !== lastDelink) continue;
    const pos = order.indexOf(i);
    let limit = pos;
    while (limit + 1 < order.length && limit + 1 <= pos + MAX_SHIFT && mayPass(e, at(limit + 1))) limit++;
    if (e.kind === 'delink') limit = Math.min(order.length - 1, pos + MAX_SHIFT);
    const after = rng.int(pos, limit);
    order.splice(after + 1, 0, i);
    duplicates++;
  }
  return { order, late, duplicates };
}
