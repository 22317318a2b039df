import type { TopicNames } from '@hub/infra';
import {
  type DataSubjectCodec,
  type DataSubjectEvent,
  type ErasureCutoff,
  normaliseMsisdn,
} from '@hub/schemas';
import { type ErasedInput, type ErasureSet, erasurePosition } from '@hub/state/erasure';
import type { StateRecord } from '@hub/state/record';
import type { Admin, Producer } from 'kafkajs';
import { partitionForKey, type RecordDecoder } from '../kafka/decoders.ts';
import { deadLetter, drop, ok } from '../kafka/results.ts';

/** A SUBSCRIBER_ERASURE_ORDERED read by the state builder from the data-subject topic. */
export interface ErasureOrder {
  input: 'erasure';
  event: DataSubjectEvent & { msisdn: string; requestId: string };
}

/** What the state builder needs to apply erasure orders. */
export interface StateBuilderErasures {
  /** Kept current by an ErasureFollower started before the builder. */
  set: ErasureSet;
  codec: DataSubjectCodec;
  /** Publishes the decided SUBSCRIBER_ERASED events (acks=all). */
  producer: Producer;
  /** Reads the ends of the history-only topics an erasure also covers. */
  admin: Admin;
}

/**
 * Data-subject records for the state builder: erasure orders of a subscriber, checked like the
 * other inputs (canonical MSISDN key on the partition it hashes to); every other data-subject
 * event (consents, request steps, decided erasures) is not for this projection and is dropped.
 */
export function erasureOrderDecoder(codec: DataSubjectCodec): RecordDecoder<ErasureOrder> {
  return async (message, ctx) => {
    let e: DataSubjectEvent;
    try {
      e = await codec.decode(message.value);
    } catch (err) {
      return deadLetter('decode', (err as Error).message);
    }
    if (e.type !== 'SUBSCRIBER_ERASURE_ORDERED')
      return drop('data-subject', `${e.type} is not for the state projection`);
    const check = normaliseMsisdn(e.subject);
    if (!check.ok || check.msisdn !== e.subject)
      return deadLetter('validate', `subject '${e.subject}' is not a canonical MSISDN`);
    if (message.key?.toString('utf8') !== e.subject)
      return deadLetter('validate', 'record key differs from its subject');
    const expected = partitionForKey(message.key, ctx.partitionCount);
    if (expected !== ctx.partition) {
      return deadLetter(
        'partition',
        `subject hashes to partition ${expected} of ${ctx.partitionCount}, found on ${ctx.partition}`,
      );
    }
    if (!e.requestId) return deadLetter('validate', 'an erasure order names its data-subject request');
    return ok({ input: 'erasure', event: { ...e, msisdn: e.subject, requestId: e.requestId } });
  };
}

/** The linkage-topic position of a decided erasure for this number's partition. */
export function decidedPosition(
  cutoffs: readonly ErasureCutoff[],
  topics: TopicNames,
  partition: number,
): Partial<Record<ErasedInput, bigint>> {
  const at = (topic: string) => cutoffs.find((c) => c.topic === topic && c.partition === partition)?.offset;
  const nin = at(topics.ninLinkages);
  const bvn = at(topics.bvnLinkages);
  return {
    ...(nin === undefined ? {} : { nin: BigInt(nin) }),
    ...(bvn === undefined ? {} : { bvn: BigInt(bvn) }),
  };
}

export interface Decision {
  order: ErasureOrder['event'];
  partition: number;
  record: StateRecord;
}

/**
 * Publishes the SUBSCRIBER_ERASED of each newly decided order and adds it to the set before the
 * round's Redis writes, so a crash in between leaves the decision on the topic for the restart
 * (which then re-applies it with `eraseBefore`, see state/src/erasure.ts). Its position: in the
 * linkage topics, just after what the record has applied; in the history-only topics (state
 * changes, verifications), their current end, taken before this round's state changes go out.
 */
export async function publishDecisions(
  e: StateBuilderErasures,
  topics: TopicNames,
  decisions: readonly Decision[],
): Promise<void> {
  if (decisions.length === 0) return;
  const ends = new Map<string, Map<number, number>>();
  for (const topic of [topics.stateChanges, topics.verifications]) {
    const offsets = await e.admin.fetchTopicOffsets(topic);
    ends.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.high)] as const)));
  }
  const now = Date.now();
  const messages = decisions.map(({ order, partition, record }) => {
    const position = erasurePosition(record);
    const cutoffs: ErasureCutoff[] = [
      { topic: topics.ninLinkages, partition, offset: Number(position.nin) },
      { topic: topics.bvnLinkages, partition, offset: Number(position.bvn) },
      ...[topics.stateChanges, topics.verifications].map((topic) => ({
        topic,
        partition,
        offset: ends.get(topic)?.get(partition) ?? 0,
      })),
    ];
    const erased: DataSubjectEvent = {
      eventId: `${order.eventId}:erased`,
      source: 'PROCESSOR',
      type: 'SUBSCRIBER_ERASED',
      subjectType: 'SUBSCRIBER',
      subject: order.msisdn,
      requestId: order.requestId,
      actor: 'system:state-builder',
      purpose: null,
      cutoffs,
      details: JSON.stringify({ order: order.eventId }),
      occurredAt: now,
      receivedAt: now,
    };
    return { erased, message: { key: order.msisdn, value: e.codec.encode(erased) } };
  });
  await e.producer.send({ topic: topics.dataSubject, messages: messages.map((m) => m.message) });
  // Only once Kafka has them: a decision the set holds is one a restart will find on the topic.
  for (const m of messages) e.set.add(m.erased);
}
