import type { TopicNames } from '@hub/infra';
import type { EventCodec, StateChangeEvent } from '@hub/schemas';
import type { Redis } from 'ioredis';
import type { ConsumerConfig, Kafka, Producer } from 'kafkajs';
import { BatchConsumer, type PartitionBatch } from '../kafka/batch-consumer.ts';
import type { DeadLetterSink } from '../kafka/dead-letters.ts';
import { msisdnEventDecoder, type RecordDecoder } from '../kafka/decoders.ts';
import type { Log } from '../kafka/logger.ts';
import { deadLetter, ok, type RecordRejection } from '../kafka/results.ts';
import { eventsApplied, eventsSkipped, stateChangesPublished, stateWriteConflicts } from '../metrics.ts';
import { StateWriter } from '../state/cas.ts';
import { deriveView } from '../state/derive.ts';
import { encodeState } from '../state/encoding.ts';
import { stateSlot } from '../state/keys.ts';
import { applyEvent } from '../state/machine.ts';
import { readStored } from '../state/read.ts';
import { emptyRecord, type Input, type StateEvent, type StateRecord } from '../state/record.ts';

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
  consumerConfig?: Omit<ConsumerConfig, 'groupId'>;
  log?: Log;
}

/** Compare-and-set misses tolerated per batch before it fails (and is redelivered). */
const MAX_ATTEMPTS = 10;

function wrap<E extends StateEvent>(
  input: E['input'],
  decode: RecordDecoder<E['event']>,
): RecordDecoder<StateEvent> {
  return async (message, ctx) => {
    const r = await decode(message, ctx);
    return r.status === 'ok' ? ok({ input, event: r.value } as StateEvent) : r;
  };
}

interface Changed {
  record: StateRecord;
  cause: StateEvent;
}

/**
 * Kafka → Redis state projection. One consumer group reads the status, NIN, BVN and delink topics.
 * For each partition chunk: one pipelined HMGET of every affected number, the events applied in
 * offset order in memory (an event at or below the record's offset for its topic is skipped, so a
 * redelivery is a no-op), StateChange records published for every changed number, then one
 * compare-and-set per changed record. A record changed by someone else in between makes the batch
 * re-read and re-apply. The consumer commits only after this resolves.
 */
export function createStateBuilder(options: StateBuilderOptions): BatchConsumer<StateEvent> {
  const { codec, topics, redis, redisKeyPrefix } = options;
  const inputOf = new Map<string, Input>([
    [topics.statusUpdates, 'status'],
    [topics.ninLinkages, 'nin'],
    [topics.bvnLinkages, 'bvn'],
    [topics.delink, 'delink'],
  ]);
  const decoders = new Map<string, RecordDecoder<StateEvent>>([
    [topics.statusUpdates, wrap('status', msisdnEventDecoder(codec, 'status-update'))],
    [topics.ninLinkages, wrap('nin', msisdnEventDecoder(codec, 'nin-linkage'))],
    [topics.bvnLinkages, wrap('bvn', msisdnEventDecoder(codec, 'bvn-linkage'))],
    [topics.delink, wrap('delink', msisdnEventDecoder(codec, 'delink'))],
  ]);
  const writer = new StateWriter(redis);

  async function handle(batch: PartitionBatch<StateEvent>): Promise<readonly RecordRejection[]> {
    const input = inputOf.get(batch.topic);
    if (!input) throw new Error(`no state input for topic ${batch.topic}`);
    const msisdns = [...new Set(batch.records.map((r) => r.value.event.msisdn))];
    let rejections: RecordRejection[] = [];

    for (let attempt = 1; ; attempt++) {
      const stored = await readStored(redis, redisKeyPrefix, msisdns);
      const current = new Map(stored.map((s) => [s.msisdn, s]));
      const working = new Map<string, Changed>();
      rejections = [];
      let applied = 0;
      let skipped = 0;
      for (const rec of batch.records) {
        const msisdn = rec.value.event.msisdn;
        const before = working.get(msisdn)?.record ?? current.get(msisdn)?.record ?? emptyRecord();
        const out = applyEvent(before, rec.value, BigInt(rec.offset));
        if (out.status === 'applied') {
          working.set(msisdn, { record: out.record, cause: rec.value });
          applied++;
        } else if (out.status === 'skipped') {
          skipped++;
        } else {
          rejections.push({ offset: rec.offset, result: deadLetter('apply', out.reason) });
        }
      }

      const changed = [...working];
      // Published before the Redis write: after a crash between the two, the replay skips the
      // already-written events and would otherwise never announce the change.
      if (options.stateChanges && changed.length > 0) {
        await publishStateChanges(options.stateChanges.producer, changed, batch.topic);
      }
      const results = await writer.write(
        changed.map(([msisdn, c]) => {
          const slot = stateSlot(redisKeyPrefix, msisdn);
          return { ...slot, expected: current.get(msisdn)?.bytes ?? null, next: encodeState(c.record) };
        }),
      );
      const conflicts = results.filter((written) => !written).length;
      if (conflicts === 0) {
        eventsApplied.inc({ topic: batch.topic }, applied);
        eventsSkipped.inc({ topic: batch.topic }, skipped);
        return rejections;
      }
      stateWriteConflicts.inc(conflicts);
      options.log?.('warn', 'state write conflicts, re-reading batch', {
        topic: batch.topic,
        partition: batch.partition,
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

  async function publishStateChanges(producer: Producer, changed: [string, Changed][], topic: string) {
    const now = Date.now();
    const messages = changed.map(([msisdn, { record, cause }]) => {
      const v = deriveView(msisdn, record);
      const value: StateChangeEvent = {
        // One id per (number, version): a re-published change after a crash carries the same id.
        eventId: `${msisdn}:${record.version}`,
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
        causeTopic: topic,
        causeEventId: cause.event.eventId,
        occurredAt: cause.event.occurredAt,
        receivedAt: now,
      };
      return { key: msisdn, value: codec.encode('state-change', value) };
    });
    await producer.send({ topic: topics.stateChanges, messages });
    stateChangesPublished.inc(messages.length);
  }

  return new BatchConsumer<StateEvent>({
    kafka: options.kafka,
    groupId: options.groupId,
    name: 'state-builder',
    topics: decoders,
    handle,
    deadLetters: options.deadLetters,
    ...(options.maxChunkSize === undefined ? {} : { maxChunkSize: options.maxChunkSize }),
    ...(options.log ? { log: options.log } : {}),
    ...(options.consumerConfig ? { consumerConfig: options.consumerConfig } : {}),
  });
}
