import type { DataSubjectEvent, ErasureCutoff } from '@hub/schemas';
import { type ApplyOutcome, validate } from './machine.ts';
import { type Input, nextVersionOf, type StateEvent, type StateRecord } from './record.ts';

/**
 * The subscriber erasures a projection honours (DESIGN "Data-subject rights and erasure"): per
 * subject (MSISDN), per topic partition, the offset below which that subject's facts are erased.
 * Built from the data-subject topic's SUBSCRIBER_ERASED events, which carry their position in every
 * topic they erase from; a later erasure of the same subject only ever raises a cutoff. Because the
 * cutoffs are offsets, the same set gives the same answer to a live consumer, a restart, a Redis
 * rebuild and a ClickHouse replay, whatever order the topics are read in.
 */
export class ErasureSet {
  private readonly bySubject = new Map<string, Map<string, number>>();
  private readonly requests = new Map<string, ErasureCutoff[]>();

  /** Adds an event's cutoffs; true when it erases something not erased before. Other types are ignored. */
  add(event: Pick<DataSubjectEvent, 'type' | 'subject' | 'cutoffs' | 'requestId'>): boolean {
    if (event.type !== 'SUBSCRIBER_ERASED') return false;
    if (event.requestId !== null) this.requests.set(event.requestId, event.cutoffs);
    let cutoffs = this.bySubject.get(event.subject);
    if (!cutoffs) {
      cutoffs = new Map();
      this.bySubject.set(event.subject, cutoffs);
    }
    let raised = false;
    for (const c of event.cutoffs) {
      const key = `${c.topic}/${c.partition}`;
      if ((cutoffs.get(key) ?? -1) < c.offset) {
        cutoffs.set(key, c.offset);
        raised = true;
      }
    }
    return raised;
  }

  /** Whether the subject's fact at `offset` of `topic`/`partition` is erased. */
  erases(subject: string, topic: string, partition: number, offset: bigint | number | string): boolean {
    const cutoffs = this.bySubject.get(subject);
    if (!cutoffs) return false;
    const cutoff = cutoffs.get(`${topic}/${partition}`);
    return cutoff !== undefined && BigInt(offset) < BigInt(cutoff);
  }

  /** The cutoff of `topic`/`partition` for the subject, or null. */
  cutoff(subject: string, topic: string, partition: number): number | null {
    return this.bySubject.get(subject)?.get(`${topic}/${partition}`) ?? null;
  }

  /** The cutoffs decided for an erasure request, or null while it is not decided. */
  decided(requestId: string): ErasureCutoff[] | null {
    return this.requests.get(requestId) ?? null;
  }

  has(subject: string): boolean {
    return this.bySubject.has(subject);
  }

  /** The subject's cutoffs, for reports and ClickHouse deletes. */
  cutoffsOf(subject: string): ErasureCutoff[] {
    const cutoffs = this.bySubject.get(subject);
    if (!cutoffs) return [];
    return [...cutoffs].map(([key, offset]) => {
      const slash = key.lastIndexOf('/');
      return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), offset };
    });
  }

  get size(): number {
    return this.bySubject.size;
  }
}

/** The state inputs whose facts an erasure removes: the number's NIN and BVN linkages. */
export const ERASED_INPUTS = ['nin', 'bvn'] as const satisfies readonly Input[];
export type ErasedInput = (typeof ERASED_INPUTS)[number];

/**
 * An erased event, read at `offset`: it counts like any applied event (version, its topic's
 * offset) but contributes no fact. The live projection applied it before the erasure and then
 * dropped the linkages, so the rebuilt record, which never sees the fact, is byte-identical. An
 * event the live run would have refused is still refused, and a redelivery is still skipped.
 */
export function applyErasedEvent(record: StateRecord, ev: StateEvent, offset: bigint): ApplyOutcome {
  const last = record.offsets[ev.input];
  if (last !== null && offset <= last) return { status: 'skipped' };
  const problem = validate(ev);
  if (problem) return { status: 'invalid', reason: problem };
  const next = nextVersionOf(record);
  next.version += 1;
  next.offsets[ev.input] = offset;
  return { status: 'applied', record: next };
}

/**
 * The next offset of each erased input's topic for this record: an erasure decided now erases
 * every linkage event the record has applied, and none that comes after.
 */
export function erasurePosition(record: StateRecord): Record<ErasedInput, bigint> {
  return {
    nin: (record.offsets.nin ?? -1n) + 1n,
    bvn: (record.offsets.bvn ?? -1n) + 1n,
  };
}

/**
 * The record with the linkages from before `position` dropped, or null when there are none. A
 * kind is dropped only while the record has applied nothing from its topic at or after the
 * position (which holds when the erasure is decided, and after a crash between its decision and
 * its write), so re-applying an erasure later never drops a newer owner's linkage. Not counted in
 * `version` and no offset moves: a rebuild, which skips the erased events, reaches the same bytes.
 */
export function eraseBefore(
  record: StateRecord,
  position: Partial<Record<ErasedInput, bigint>>,
): StateRecord | null {
  let next: StateRecord | null = null;
  for (const kind of ERASED_INPUTS) {
    const at = position[kind];
    if (at === undefined) continue;
    const applied = record.offsets[kind];
    if (applied !== null && applied >= at) continue;
    if (record[kind].length === 0 && record.droppedLinkages[kind] === 0) continue;
    next ??= nextVersionOf(record);
    next[kind] = [];
    next.droppedLinkages = { ...next.droppedLinkages, [kind]: 0 };
  }
  return next;
}
