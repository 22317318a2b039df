import type { IdentitySources } from '@hub/identity-sources';
import { type DelinkAnswer, SourceError } from '@hub/identity-sources';
import type { Logger, TopicNames } from '@hub/infra';
import type { AuditEntry, WorkflowWriter } from '@hub/ingest';
import type { EventCodec } from '@hub/schemas';
import { readState } from '@hub/state/read';
import type { DelinkRequestDoc, Dispatch, LinkageRef } from '@hub/state/workflow/model';
import { linkageCleared } from '@hub/state/workflow/stale';
import { readRequest, readSim, type WorkflowKeys } from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { PartitionConsumer } from './consume.ts';
import { cleanupOf, stepOf } from './events.ts';
import type { WorkflowNotices } from './notices.ts';
import { projectedUpTo } from './projector.ts';

export interface DispatcherOptions {
  kafka: Kafka;
  codec: EventCodec;
  redis: Redis;
  keys: WorkflowKeys;
  redisKeyPrefix: string;
  topics: TopicNames;
  groupId: string;
  sources: IdentitySources;
  writer: WorkflowWriter;
  audit: (entry: AuditEntry) => Promise<void>;
  /** Notification intents (subscriber notice on approval); absent: none. */
  notices?: WorkflowNotices;
  log: Logger;
  now?: () => number;
  /** How long to wait for the projector to catch up with an approval before the batch is retried. */
  projectionTimeoutMs?: number;
}

/** One per request, attempt and linkage: what the source sees, and what it dedupes a retried call on. */
export const idempotencyKeyOf = (requestId: string, attempt: number, linkageId: string): string =>
  `${requestId}:${attempt}:${linkageId}`;

/**
 * The delink dispatcher: for each approval (APPROVED, or RETRIED after a failure) on the delink
 * topic, asks NIMC to unlink each NIN linkage and NIBSS each BVN linkage of the request, and
 * records every outcome as an event on the delink topic before the approval's offset is
 * committed. After a crash the approval is consumed again: linkages whose outcome is already in
 * the read model are skipped, and any other is asked again with the same idempotency key, which
 * the source answers without acting twice. Completion is not decided here: the sources confirm
 * through their UNLINK feeds, and the confirmer sees it in the state record.
 */
export function createDispatcher(options: DispatcherOptions): PartitionConsumer<'delink'> {
  const { redis, keys, writer, log } = options;
  const now = options.now ?? Date.now;

  async function ask(
    doc: DelinkRequestDoc,
    l: LinkageRef,
    key: string,
  ): Promise<DelinkAnswer | { outcome: 'UNAVAILABLE'; reason: string }> {
    const order = {
      msisdn: doc.msisdn,
      masked: l.masked,
      linkDate: l.linkDate,
      reason: doc.reason ?? 'recycled SIM: previous owner linkage',
      idempotencyKey: key,
    };
    try {
      return l.kind === 'NIN'
        ? await options.sources.nimc.unlinkNin(order)
        : await options.sources.nibss.unlinkBvn(order);
    } catch (err) {
      if (err instanceof SourceError)
        return { outcome: 'UNAVAILABLE', reason: `${err.source}: ${err.message}` };
      throw err;
    }
  }

  async function dispatch(requestId: string, attempt: number): Promise<void> {
    let doc = await readRequest(redis, keys, requestId);
    if (!doc || doc.attempt !== attempt || (doc.status !== 'APPROVED' && doc.status !== 'PROCESSING')) return;
    const t = now();
    if (doc.status === 'APPROVED') {
      const processing = stepOf(doc, 'PROCESSING', `${doc.id}:${attempt}:processing`, t);
      await writer.delink([processing]);
      if (attempt === 1) await options.notices?.approved(doc, t);
      const sim = await readSim(redis, keys, doc.simId);
      if (sim?.cleanupStatus === 'pending') {
        await writer.sims([
          cleanupOf(
            doc,
            'in_progress',
            `${doc.simId}:${doc.id}:${attempt}:in_progress`,
            `delink request ${doc.id} dispatched`,
            t,
          ),
        ]);
      }
      doc = { ...doc, status: 'PROCESSING' };
    }
    const [reading] = await readState(redis, options.redisKeyPrefix, [doc.msisdn]);
    const view = reading?.view ?? null;
    const outcomes: Pick<Dispatch, 'linkageId' | 'outcome' | 'reason'>[] = [];
    for (const l of doc.linkages) {
      if (view && linkageCleared(view, l)) continue;
      if (doc.dispatches.some((d) => d.linkageId === l.id && d.outcome === 'ACCEPTED')) continue;
      const prior = doc.dispatches.find((d) => d.linkageId === l.id && d.attempt === attempt);
      if (prior) {
        outcomes.push(prior);
        continue;
      }
      const key = idempotencyKeyOf(doc.id, attempt, l.id);
      const answer = await ask(doc, l, key);
      const reason = answer.outcome === 'ACCEPTED' ? `reference ${answer.reference}` : answer.reason;
      await writer.delink([
        stepOf(doc, 'DISPATCHED', `${key}:dispatched`, now(), {
          linkageId: l.id,
          outcome: answer.outcome,
          idempotencyKey: key,
          reason,
        }),
      ]);
      await options.audit({
        actor: 'system:delink-dispatcher',
        organisation: l.kind === 'NIN' ? 'NIMC' : 'NIBSS',
        action: 'DELINK_DISPATCHED',
        target: doc.msisdn,
        outcome: answer.outcome === 'ACCEPTED' ? 'SUCCESS' : 'FAILURE',
        details: {
          requestId: doc.id,
          attempt,
          linkage: l.masked,
          kind: l.kind,
          outcome: answer.outcome,
          reason,
        },
      });
      outcomes.push({ linkageId: l.id, outcome: answer.outcome, reason });
    }
    const failures = outcomes.filter((o) => o.outcome !== 'ACCEPTED');
    if (failures.length > 0) {
      const reason = failures.map((f) => f.reason ?? f.outcome).join('; ');
      await writer.delink([stepOf(doc, 'FAILED', `${doc.id}:${attempt}:failed`, now(), { reason })]);
      log.info({ requestId: doc.id, attempt, reason }, 'delink request failed at a source');
    }
  }

  return new PartitionConsumer<'delink'>({
    kafka: options.kafka,
    codec: options.codec,
    groupId: options.groupId,
    topics: new Map([[options.topics.delink, 'delink']]),
    log,
    consumerConfig: { sessionTimeout: 10_000, heartbeatInterval: 1000 },
    async handle(records, topic, partition) {
      for (const r of records) {
        const e = r.value;
        if (e.action !== 'APPROVED' && e.action !== 'RETRIED') continue;
        // The read model must hold this approval (and everything before it) before it is acted on.
        const ready = await projectedUpTo(
          redis,
          keys,
          topic,
          partition,
          r.offset,
          options.projectionTimeoutMs ?? 30_000,
        );
        if (!ready) throw new Error(`workflow projection has not reached ${topic}/${partition}@${r.offset}`);
        await dispatch(e.requestId, e.attempt ?? 1);
      }
    },
  });
}
