import type { TopicNames } from '@hub/infra';
import type { DataSubjectCodec, EventCodec, StateChangeEvent } from '@hub/schemas';
import { StateWriter } from '@hub/state/cas';
import { deriveSummary } from '@hub/state/derive';
import { encodeState } from '@hub/state/encoding';
import { applyErasedEvent, ERASED_INPUTS, eraseBefore, erasurePosition } from '@hub/state/erasure';
import { stateSlot } from '@hub/state/keys';
import { type ApplyOutcome, applyEvent } from '@hub/state/machine';
import { readStored, type StoredState } from '@hub/state/read';
import { emptyRecord, type StateEvent, type StateRecord } from '@hub/state/record';
import type { Redis } from 'ioredis';
import type { ConsumerConfig, Kafka, Producer } from 'kafkajs';
import { BatchConsumer, type PartitionBatch } from '../kafka/batch-consumer.ts';
import { type DeadLetterSink, STATE_BUILDER } from '../kafka/dead-letters.ts';
import { msisdnEventDecoder, type RecordDecoder } from '../kafka/decoders.ts';
import type { Log } from '../kafka/logger.ts';
import { deadLetter, ok, type RecordRejection, type StepResult } from '../kafka/results.ts';
import { eventsApplied, eventsSkipped, stateChangesPublished, stateWriteConflicts } from '../metrics.ts';
import {
  type Decision,
  decidedPosition,
  type ErasureOrder,
  erasureOrderDecoder,
  publishDecisions,
  type StateBuilderErasures,
} from './erasure-orders.ts';

export interface StateBuilderOptions {
  kafka: Kafka;
  redis: Redis;
  codec: EventCodec;
  topics: TopicNames;
  redisKeyPrefix: string;
  groupId: string;
  deadLetters: DeadLetterSink;
  /** Publishes StateChange records; omitted by a rebuild, which must not re-notify subscribers. */
  stateChanges?: { producer: Producer };
  maxChunkSize?: number;
  /**
   * Subscriber erasures (DESIGN "Data-subject rights and erasure"): the builder also reads erasure
   * orders from the data-subject topic, decides each one's position (erasure-orders.ts) and drops
   * the number's linkages; a linkage event an erasure covers is counted but its fact never applied,
   * so a rebuild or a rewind cannot bring it back.
   */
  erasures?: StateBuilderErasures;
  consumerConfig?: Omit<ConsumerConfig, 'groupId'>;
  log?: Log;
}

/** Compare-and-set misses tolerated per round before it fails (and is redelivered). */
const MAX_ATTEMPTS = 10;

/**
 * StateChange records per produce request (a few hundred bytes each, so well under 1 MiB). kafkajs
 * groups a send's records by partition by copying the partition's list for every record, so a
 * send's cost per record grows with its size: at 2,000 that copying was a fifth of everything the
 * builder allocated; at 500 it is a twentieth of that, for four times the requests (sent one after another, see publishStateChanges).
 */
const STATE_CHANGES_PER_SEND = 500;

function wrap<E extends StateEvent>(
  input: E['input'],
  decode: RecordDecoder<E['event']>,
): RecordDecoder<StateEvent> {
  const lift = (r: StepResult<E['event']>): StepResult<StateEvent> =>
    r.status === 'ok' ? ok({ input, event: r.value } as StateEvent) : r;
  return (message, ctx) => {
    const r = decode(message, ctx);
    return r instanceof Promise ? r.then(lift) : lift(r);
  };
}

/** What the builder consumes: the state inputs, and erasure orders when erasures are on. */
export type BuilderInput = StateEvent | ErasureOrder;

/**
 * The builder's inputs and their decoders: the status, NIN, BVN and delink topics, and the
 * data-subject topic's erasure orders when `erasures` is given. The rebuild reads the same table.
 */
export function builderDecoders(
  codec: EventCodec,
  topics: Pick<TopicNames, 'statusUpdates' | 'ninLinkages' | 'bvnLinkages' | 'delink' | 'dataSubject'>,
  erasures?: DataSubjectCodec,
): Map<string, RecordDecoder<BuilderInput>> {
  const decoders = new Map<string, RecordDecoder<BuilderInput>>([
    [topics.statusUpdates, wrap('status', msisdnEventDecoder(codec, 'status-update'))],
    [topics.ninLinkages, wrap('nin', msisdnEventDecoder(codec, 'nin-linkage'))],
    [topics.bvnLinkages, wrap('bvn', msisdnEventDecoder(codec, 'bvn-linkage'))],
    [topics.delink, wrap('delink', msisdnEventDecoder(codec, 'delink'))],
  ]);
  if (erasures) decoders.set(topics.dataSubject, erasureOrderDecoder(erasures));
  return decoders;
}

/** The running state projection consumer. */
export type StateBuilder = BatchConsumer<BuilderInput>;

interface Changed {
  record: StateRecord;
  cause: { event: { eventId: string; occurredAt: number } };
  causeTopic: string;
  /** Changed by an erasure, which does not move `version`: the state change's id says so. */
  erased?: boolean;
}

/** applyEvent, with a throw (a defect in the state machine) turned into a refusal of that one event. */
function applySafely(record: StateRecord, ev: StateEvent, offset: bigint, erased = false): ApplyOutcome {
  try {
    return erased ? applyErasedEvent(record, ev, offset) : applyEvent(record, ev, offset);
  } catch (err) {
    return { status: 'invalid', reason: `state machine failed: ${(err as Error).message}` };
  }
}

/** The stored bytes of a record, or why it cannot be stored. */
function encodeSafely(record: StateRecord): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  try {
    return { ok: true, bytes: encodeState(record) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/**
 * Kafka → Redis state projection. One consumer group reads the status, NIN, BVN and delink topics.
 * For each round (the chunks of every partition that arrived together): one pipelined HMGET of
 * every affected number, the events applied in memory, each partition's in offset order (an event
 * at or below the record's offset for its topic is skipped, so a redelivery is a no-op; a number's
 * events from different topics commute), StateChange records published for every changed number,
 * then one pipeline of compare-and-set writes, one per changed record. A record changed by someone
 * else in between makes the round re-read and re-apply. The consumer commits only after this
 * resolves.
 *
 * No single number or event can stall it: an event the state machine refuses (or fails on), an
 * event for a number whose stored record does not decode, and an event whose result could not be
 * stored are each dead-lettered with the reason, and the partition goes on. Records are bounded by
 * design (state/src/record.ts LINKAGE_LIMIT), so the last two point at damage or a defect.
 */
export function createStateBuilder(options: StateBuilderOptions): BatchConsumer<BuilderInput> {
  const { codec, topics, redis, redisKeyPrefix } = options;
  const erasures = options.erasures;
  const decoders = builderDecoders(codec, topics, erasures?.codec);
  const writer = new StateWriter(redis);

  function isErased(batch: PartitionBatch<BuilderInput>, ev: StateEvent, offset: bigint): boolean {
    return (
      erasures !== undefined &&
      erasures.set.size > 0 &&
      (ERASED_INPUTS as readonly string[]).includes(ev.input) &&
      erasures.set.erases(ev.event.msisdn, batch.topic, batch.partition, offset)
    );
  }

  /**
   * An erasure order applied to the number's working record: a new order is decided here (its
   * position is just after what the record has applied); one decided before (a redelivery, a
   * restart, a rebuild) is applied at its decided position.
   */
  function applyOrder(
    record: StateRecord,
    order: ErasureOrder['event'],
    partition: number,
    decisions: Decision[],
  ): StateRecord | null {
    const decided = erasures!.set.decided(order.requestId);
    if (!decided) decisions.push({ order, partition, record });
    return eraseBefore(
      record,
      decided ? decidedPosition(decided, topics, partition) : erasurePosition(record),
    );
  }

  async function handle(
    batches: readonly PartitionBatch<BuilderInput>[],
  ): Promise<readonly RecordRejection[][]> {
    const msisdns = new Set<string>();
    for (const batch of batches) for (const r of batch.records) msisdns.add(r.value.event.msisdn);
    const numbers = [...msisdns];
    const offsets = batches.map((b) => b.records.map((r) => BigInt(r.offset)));

    for (let attempt = 1; ; attempt++) {
      const stored = await readStored(redis, redisKeyPrefix, numbers);
      const current = new Map<string, StoredState>();
      for (const s of stored) current.set(s.msisdn, s);
      const working = new Map<string, Changed>();
      const decisions: Decision[] = [];
      const rejections: RecordRejection[][] = [];
      const applied = new Map<string, number>();
      const skipped = new Map<string, number>();
      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b]!;
        const rejected: RecordRejection[] = [];
        rejections.push(rejected);
        let nApplied = 0;
        let nSkipped = 0;
        const records = batch.records;
        const at = offsets[b]!;
        for (let i = 0; i < records.length; i++) {
          const rec = records[i]!;
          const msisdn = rec.value.event.msisdn;
          const stored = current.get(msisdn);
          if (stored?.unreadable) {
            rejected.push({
              offset: rec.offset,
              result: deadLetter(
                'state-record',
                `stored state of ${msisdn} cannot be read (${stored.unreadable}); rebuild the number`,
              ),
            });
            continue;
          }
          const before = working.get(msisdn)?.record ?? stored?.record ?? emptyRecord();
          const input = rec.value;
          if (input.input === 'erasure') {
            const next = applyOrder(before, input.event, batch.partition, decisions);
            if (next)
              working.set(msisdn, { record: next, cause: input, causeTopic: batch.topic, erased: true });
            nApplied++;
            continue;
          }
          const out = applySafely(before, input, at[i]!, isErased(batch, input, at[i]!));
          if (out.status === 'applied') {
            working.set(msisdn, { record: out.record, cause: input, causeTopic: batch.topic });
            nApplied++;
          } else if (out.status === 'skipped') {
            nSkipped++;
          } else {
            rejected.push({ offset: rec.offset, result: deadLetter('apply', out.reason) });
          }
        }
        applied.set(batch.topic, (applied.get(batch.topic) ?? 0) + nApplied);
        skipped.set(batch.topic, (skipped.get(batch.topic) ?? 0) + nSkipped);
      }

      const encoded = new Map<string, Buffer>();
      for (const [msisdn, c] of working) {
        const e = encodeSafely(c.record);
        if (e.ok) {
          encoded.set(msisdn, e.bytes);
          continue;
        }
        // Cannot happen for records the state machine builds; should it, only the events that made
        // the record unstorable are dead-lettered, the number's other events still apply.
        const redo = reapplyStorable(batches, offsets, msisdn, current.get(msisdn)?.record ?? null);
        redo.rejections.forEach((list, b) => {
          rejections[b]!.push(...list);
        });
        if (redo.changed) {
          working.set(msisdn, redo.changed);
          encoded.set(msisdn, redo.bytes!);
        } else working.delete(msisdn);
      }

      const changed = [...working];
      // Decided erasures go out first: the history-only topics' ends are read before this round's
      // state changes, and a decision on the topic survives a crash before the write.
      if (erasures) await publishDecisions(erasures, topics, decisions);
      // Published before the Redis write: after a crash between the two, the replay skips the
      // already-written events and would otherwise never announce the change.
      if (options.stateChanges && changed.length > 0) {
        await publishStateChanges(options.stateChanges.producer, changed);
      }
      const results = await writer.write(
        changed.map(([msisdn]) => {
          const slot = stateSlot(redisKeyPrefix, msisdn);
          return { ...slot, expected: current.get(msisdn)?.bytes ?? null, next: encoded.get(msisdn)! };
        }),
      );
      let conflicts = 0;
      for (const written of results) if (!written) conflicts++;
      if (conflicts === 0) {
        for (const [topic, n] of applied) eventsApplied.inc({ topic }, n);
        for (const [topic, n] of skipped) eventsSkipped.inc({ topic }, n);
        return rejections;
      }
      stateWriteConflicts.inc(conflicts);
      options.log?.('warn', 'state write conflicts, re-reading round', {
        partitions: batches.map((b) => `${b.topic}/${b.partition}`),
        conflicts,
        attempt,
      });
      if (attempt >= MAX_ATTEMPTS) {
        throw new Error(
          `state writes kept conflicting after ${MAX_ATTEMPTS} attempts (${conflicts} records)`,
        );
      }
    }
  }

  /**
   * One number's events of the round applied again in the same order, each result encoded: an
   * event whose result cannot be stored is dead-lettered (step `encode`) and the next one applies
   * to the record before it.
   */
  function reapplyStorable(
    batches: readonly PartitionBatch<BuilderInput>[],
    offsets: bigint[][],
    msisdn: string,
    stored: StateRecord | null,
  ): { changed: Changed | null; bytes: Buffer | null; rejections: RecordRejection[][] } {
    let record = stored ?? emptyRecord();
    let changed: Changed | null = null;
    let bytes: Buffer | null = null;
    const rejections = batches.map((batch, b) => {
      const rejected: RecordRejection[] = [];
      batch.records.forEach((rec, i) => {
        const input = rec.value;
        if (input.event.msisdn !== msisdn) return;
        if (input.input === 'erasure') {
          // Only shrinks the record; its decision, if new, was taken in the first pass.
          const decided = erasures?.set.decided(input.event.requestId);
          const next = decided
            ? eraseBefore(record, decidedPosition(decided, topics, batch.partition))
            : null;
          if (next) {
            record = next;
            bytes = encodeState(next);
            changed = { record, cause: input, causeTopic: batch.topic, erased: true };
          }
          return;
        }
        const out = applySafely(record, input, offsets[b]![i]!, isErased(batch, input, offsets[b]![i]!));
        if (out.status !== 'applied') return; // skipped, or already rejected in the first pass
        const e = encodeSafely(out.record);
        if (!e.ok) {
          rejected.push({ offset: rec.offset, result: deadLetter('encode', e.reason) });
          return;
        }
        record = out.record;
        bytes = e.bytes;
        changed = { record, cause: input, causeTopic: batch.topic };
      });
      return rejected;
    });
    return { changed, bytes, rejections };
  }

  async function publishStateChanges(producer: Producer, changed: [string, Changed][]) {
    const now = Date.now();
    const messages = changed.map(([msisdn, { record, cause, causeTopic, erased }]) => {
      const v = deriveSummary(msisdn, record);
      const value: StateChangeEvent = {
        // One id per (number, version): a re-published change after a crash carries the same id.
        // An erasure does not move the version, so its change says so in the id.
        eventId: erased ? `${msisdn}:${record.version}:erased` : `${msisdn}:${record.version}`,
        source: 'PROCESSOR',
        msisdn,
        version: v.version,
        operator: v.operator,
        telecomStatus: v.telecomStatus,
        statusDate: v.statusDate,
        reassignmentDate: v.reassignmentDate,
        lastSwappedDate: v.lastSwappedDate,
        lastChurnedDate: v.lastChurnedDate,
        lastReassignedDate: v.lastReassignedDate,
        lifecycleStatus: v.lifecycleStatus,
        isRecycled: v.isRecycled,
        activeNinLinkages: v.activeNinLinkages,
        activeBvnLinkages: v.activeBvnLinkages,
        cleanupStatus: v.cleanupStatus,
        canAssignToNewUser: v.canAssignToNewUser,
        conflicts: v.conflicts,
        causeTopic,
        causeEventId: cause.event.eventId,
        occurredAt: cause.event.occurredAt,
        receivedAt: now,
      };
      return { key: msisdn, value: codec.encode('state-change', value) };
    });
    // A round can change tens of thousands of numbers; the broker refuses a record batch over
    // message.max.bytes (1 MiB by default), so the changes go out in slices, one after another:
    // kafkajs' idempotent producer numbers a send when it builds the request, and sends that
    // overlap (a slice still retrying after another failed the round, and the retried round's
    // slices) can reuse sequence numbers, so the broker drops one as a duplicate and acknowledges
    // it (kafkajs issue #1005). A failed slice fails the round with nothing left in flight.
    for (let i = 0; i < messages.length; i += STATE_CHANGES_PER_SEND) {
      await producer.send({
        topic: topics.stateChanges,
        messages: messages.slice(i, i + STATE_CHANGES_PER_SEND),
      });
    }
    stateChangesPublished.inc(messages.length);
  }

  return new BatchConsumer<BuilderInput>({
    kafka: options.kafka,
    groupId: options.groupId,
    name: STATE_BUILDER,
    topics: decoders,
    handle,
    deadLetters: options.deadLetters,
    ...(options.maxChunkSize === undefined ? {} : { maxChunkSize: options.maxChunkSize }),
    ...(options.log ? { log: options.log } : {}),
    ...(options.consumerConfig ? { consumerConfig: options.consumerConfig } : {}),
  });
}
