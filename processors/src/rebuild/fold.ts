import type { TopicNames } from '@hub/infra';
import { encodeState } from '@hub/state/encoding';
import {
  applyErasedEvent,
  ERASED_INPUTS,
  type ErasureSet,
  eraseBefore,
  erasurePosition,
} from '@hub/state/erasure';
import { type ApplyOutcome, applyEvent } from '@hub/state/machine';
import { emptyRecord, type StateEvent, type StateRecord } from '@hub/state/record';
import type { PartitionBatch } from '../kafka/batch-consumer.ts';
import { deadLetter, type RecordRejection } from '../kafka/results.ts';
import type { BuilderInput } from '../state-builder/builder.ts';
import { type Decision, decidedPosition, type ErasureOrder } from '../state-builder/erasure-orders.ts';

/**
 * The rebuild's in-memory fold of a chunk: the same per-event rules as the live state builder
 * (state-builder/builder.ts `handle`), with the state machine, erasure and encoding functions of
 * the state package, but without the per-number read and compare-and-set: each number's events of
 * the chunk are applied one after another to its record in memory, and only its final record is
 * stored, once per chunk.
 *
 * Order: batches in the order given, each partition's records in offset order, as the live builder
 * applies a round. A number's events of one topic are all on one partition (the decoders refuse a
 * key on the wrong partition), so they apply in offset order whatever the chunking; events of
 * different topics commute (state/src/machine.ts), so how the topics interleave, and where the chunk
 * boundaries fall, changes nothing. The one exception is an erasure order not decided yet: its
 * position is what the record has applied when it is read, exactly as in the live builder.
 */

/** What the fold starts a number from: its record, or why the stored one cannot be read. */
export type FoldStart = { record: StateRecord | null; unreadable: string | null };

export interface FoldOptions {
  topics: TopicNames;
  /** Erasures decided so far (the data-subject topic, read to its end before the first chunk). */
  erasures: ErasureSet;
}

export interface FoldedNumber {
  record: StateRecord;
  bytes: Buffer;
}

export interface FoldResult {
  /** Per batch (same index): the records refused, dead-lettered like the live builder's. */
  rejections: RecordRejection[][];
  /** The final record and stored bytes of every number the chunk changed. */
  changed: Map<string, FoldedNumber>;
  /** Erasure orders decided by this chunk, to publish before its writes. */
  decisions: Decision[];
  /** Events applied and skipped, per topic. */
  applied: Map<string, number>;
  skipped: Map<string, number>;
}

/** applyEvent (or applyErasedEvent), with a throw turned into a refusal of that one event, as live. */
function applySafely(record: StateRecord, ev: StateEvent, offset: bigint, erased: boolean): ApplyOutcome {
  try {
    return erased ? applyErasedEvent(record, ev, offset) : applyEvent(record, ev, offset);
  } catch (err) {
    return { status: 'invalid', reason: `state machine failed: ${(err as Error).message}` };
  }
}

function encodeSafely(record: StateRecord): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  try {
    return { ok: true, bytes: encodeState(record) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

function count(map: Map<string, number>, topic: string, n: number): void {
  if (n > 0) map.set(topic, (map.get(topic) ?? 0) + n);
}

/**
 * Folds one chunk. `start` gives each number's record before the chunk (null: nothing yet); it is
 * called once per number. Nothing passed in is modified: a chunk whose writes fail can be folded
 * again from the same starting records.
 */
export function foldChunk(
  batches: readonly PartitionBatch<BuilderInput>[],
  start: (msisdn: string) => FoldStart,
  options: FoldOptions,
): FoldResult {
  const { topics, erasures } = options;
  // One entry per number of the chunk: where it started, and its record once an event changed it.
  const numbers = new Map<string, { from: FoldStart; changed: StateRecord | null }>();
  const decisions: Decision[] = [];
  const rejections: RecordRejection[][] = [];
  const applied = new Map<string, number>();
  const skipped = new Map<string, number>();
  const isErased = (ev: StateEvent, topic: string, partition: number, offset: bigint): boolean =>
    erasures.size > 0 &&
    (ERASED_INPUTS as readonly string[]).includes(ev.input) &&
    erasures.erases(ev.event.msisdn, topic, partition, offset);

  for (const batch of batches) {
    const rejected: RecordRejection[] = [];
    rejections.push(rejected);
    let nApplied = 0;
    let nSkipped = 0;
    for (const rec of batch.records) {
      const msisdn = rec.value.event.msisdn;
      let n = numbers.get(msisdn);
      if (!n) {
        n = { from: start(msisdn), changed: null };
        numbers.set(msisdn, n);
      }
      if (n.from.unreadable !== null) {
        rejected.push({
          offset: rec.offset,
          result: deadLetter(
            'state-record',
            `stored state of ${msisdn} cannot be read (${n.from.unreadable}); rebuild the number`,
          ),
        });
        continue;
      }
      const before = n.changed ?? n.from.record ?? emptyRecord();
      const input = rec.value;
      if (input.input === 'erasure') {
        const next = applyOrder(before, input.event, batch.partition, erasures, topics, decisions);
        if (next) n.changed = next;
        nApplied++;
        continue;
      }
      const offset = BigInt(rec.offset);
      const out = applySafely(before, input, offset, isErased(input, batch.topic, batch.partition, offset));
      if (out.status === 'applied') {
        n.changed = out.record;
        nApplied++;
      } else if (out.status === 'skipped') {
        nSkipped++;
      } else {
        rejected.push({ offset: rec.offset, result: deadLetter('apply', out.reason) });
      }
    }
    count(applied, batch.topic, nApplied);
    count(skipped, batch.topic, nSkipped);
  }

  const changed = new Map<string, FoldedNumber>();
  for (const [msisdn, { from, changed: record }] of numbers) {
    if (record === null) continue;
    const e = encodeSafely(record);
    if (e.ok) {
      changed.set(msisdn, { record, bytes: e.bytes });
      continue;
    }
    // Cannot happen for records the state machine builds; should it, only the events that made the
    // record unstorable are dead-lettered (step `encode`), as the live builder does.
    const redo = reapplyStorable(batches, msisdn, from.record, options, isErased);
    redo.rejections.forEach((list, b) => {
      rejections[b]!.push(...list);
    });
    if (redo.changed) changed.set(msisdn, redo.changed);
  }
  return { rejections, changed, decisions, applied, skipped };
}

/**
 * An erasure order on the number's working record, as the live builder applies it: one decided
 * before (always, in a rebuild of orders the live run decided) at its decided position; a new one
 * is decided here, just after what the record has applied, and returned for publishing.
 */
function applyOrder(
  record: StateRecord,
  order: ErasureOrder['event'],
  partition: number,
  erasures: ErasureSet,
  topics: TopicNames,
  decisions: Decision[],
): StateRecord | null {
  const decided = erasures.decided(order.requestId);
  if (!decided) decisions.push({ order, partition, record });
  return eraseBefore(record, decided ? decidedPosition(decided, topics, partition) : erasurePosition(record));
}

/**
 * One number's events of the chunk applied again in the same order, each result encoded: an event
 * whose result cannot be stored is dead-lettered (step `encode`) and the next one applies to the
 * record before it (builder.ts `reapplyStorable`).
 */
function reapplyStorable(
  batches: readonly PartitionBatch<BuilderInput>[],
  msisdn: string,
  stored: StateRecord | null,
  options: FoldOptions,
  isErased: (ev: StateEvent, topic: string, partition: number, offset: bigint) => boolean,
): { changed: FoldedNumber | null; rejections: RecordRejection[][] } {
  let record = stored ?? emptyRecord();
  let changed: FoldedNumber | null = null;
  const rejections = batches.map((batch) => {
    const rejected: RecordRejection[] = [];
    for (const rec of batch.records) {
      const input = rec.value;
      if (input.event.msisdn !== msisdn) continue;
      if (input.input === 'erasure') {
        // Only shrinks the record; its decision, if new, was taken in the first pass.
        const decided = options.erasures.decided(input.event.requestId);
        const next = decided
          ? eraseBefore(record, decidedPosition(decided, options.topics, batch.partition))
          : null;
        if (next) {
          record = next;
          changed = { record, bytes: encodeState(next) };
        }
        continue;
      }
      const offset = BigInt(rec.offset);
      const out = applySafely(record, input, offset, isErased(input, batch.topic, batch.partition, offset));
      if (out.status !== 'applied') continue; // skipped, or already rejected in the first pass
      const e = encodeSafely(out.record);
      if (!e.ok) {
        rejected.push({ offset: rec.offset, result: deadLetter('encode', e.reason) });
        continue;
      }
      record = out.record;
      changed = { record, bytes: e.bytes };
    }
    return rejected;
  });
  return { changed, rejections };
}

/**
 * The rebuild's records between chunks. The rebuild starts from a dropped projection, so a number
 * it has not seen yet starts empty, with no Redis read; one it holds in memory needs none either.
 * Past `limit` numbers, the least recently changed ones leave memory (their final bytes are in
 * Redis by then) and are read back from Redis if they show up again.
 */
export class FoldedState {
  private readonly records = new Map<string, StateRecord>();
  private readonly evicted = new Set<string>();
  /** Set once another member may have written numbers this one has not seen: read them all. */
  private shared = false;

  constructor(private readonly limit = 1_000_000) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`limit must be a positive integer, got ${limit}`);
  }

  /** Numbers of the chunk that must be read from Redis first: seen before, no longer in memory. */
  toRead(batches: readonly PartitionBatch<BuilderInput>[]): string[] {
    if (this.evicted.size === 0 && !this.shared) return [];
    const read = new Set<string>();
    for (const b of batches) {
      for (const r of b.records) {
        const m = r.value.event.msisdn;
        if ((this.shared || this.evicted.has(m)) && !this.records.has(m)) read.add(m);
      }
    }
    return [...read];
  }

  /**
   * Forgets every record and reads each number from Redis from now on: after this member's
   * partitions changed, another member may have written a number this one held or never saw.
   */
  distrust(): void {
    this.records.clear();
    this.evicted.clear();
    this.shared = true;
  }

  /** A number's record before the chunk: in memory, else read back (`read`), else empty. */
  start(msisdn: string, read?: ReadonlyMap<string, FoldStart>): FoldStart {
    const record = this.records.get(msisdn);
    if (record) return { record, unreadable: null };
    return read?.get(msisdn) ?? { record: null, unreadable: null };
  }

  /** Takes the chunk's results once their writes are acknowledged. */
  commit(changed: ReadonlyMap<string, FoldedNumber>): void {
    for (const [msisdn, { record }] of changed) {
      // Re-inserted, so the map's order is least recently changed first.
      this.records.delete(msisdn);
      this.records.set(msisdn, record);
      this.evicted.delete(msisdn);
    }
    for (const msisdn of this.records.keys()) {
      if (this.records.size <= this.limit) break;
      this.records.delete(msisdn);
      this.evicted.add(msisdn);
    }
  }

  /** Numbers held in memory. */
  get size(): number {
    return this.records.size;
  }
}
