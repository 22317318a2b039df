import type { Logger, TopicNames } from '@hub/infra';
import type { AuditEntry, WorkflowWriter } from '@hub/ingest';
import type { EventCodec, RecycledSimEvent, StateChangeEvent } from '@hub/schemas';
import type { StateView } from '@hub/state/derive';
import { readState } from '@hub/state/read';
import type { DelinkRequestDoc } from '@hub/state/workflow/model';
import { simIdOf } from '@hub/state/workflow/model';
import { linkageCleared, staleLinkagesOf } from '@hub/state/workflow/stale';
import {
  readRequests,
  readSim,
  requestsOfNumber,
  simsExist,
  type WorkflowKeys,
} from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { PartitionConsumer } from './consume.ts';
import { cleanupOf, scopeOf, stepOf } from './events.ts';
import type { WorkflowNotices } from './notices.ts';

export interface ConfirmerOptions {
  kafka: Kafka;
  codec: EventCodec;
  redis: Redis;
  keys: WorkflowKeys;
  redisKeyPrefix: string;
  topics: TopicNames;
  groupId: string;
  writer: WorkflowWriter;
  audit: (entry: AuditEntry) => Promise<void>;
  /** Notification intents (operator and NIBSS on completion); absent: none. */
  notices?: WorkflowNotices;
  log: Logger;
  /** How often every open request is checked, for a change the state-changes stream did not show. */
  sweepMs?: number;
  now?: () => number;
}

const COMPLETABLE = new Set(['APPROVED', 'PROCESSING', 'FAILED']);

/**
 * Continuous detection and completion. A request is COMPLETED when the state record shows every linkage it names cleared —
 * by the sources' own UNLINK feed events, which the state builder applied. It watches the
 * state-changes topic (a number changed: are its open requests done?) and sweeps every open request
 * periodically. The registry entry becomes `completed` when the record shows no stale linkage left.
 */
export class Confirmer {
  private readonly consumer: PartitionConsumer<'state-change'>;
  private timer: NodeJS.Timeout | null = null;
  /** Requests being completed right now: the stream and the sweep must not both complete one. */
  private readonly completing = new Set<string>();
  private sweeping: Promise<void> | null = null;

  constructor(private readonly options: ConfirmerOptions) {
    this.consumer = new PartitionConsumer<'state-change'>({
      kafka: options.kafka,
      codec: options.codec,
      groupId: options.groupId,
      topics: new Map([[options.topics.stateChanges, 'state-change']]),
      log: options.log,
      // The sweep covers whatever happened before this group first joined.
      fromBeginning: false,
      handle: async (records) => {
        await this.detect(
          records.map((r) => r.value).filter((c) => c.conflicts.some((x) => x.code === 'STALE_LINKAGE')),
        );
        const numbers = [...new Set(records.map((r) => r.value.msisdn))];
        const pipeline = options.redis.pipeline();
        for (const m of numbers) pipeline.exists(options.keys.requestsOf(m));
        const exists = (await pipeline.exec()) ?? [];
        const withRequests = numbers.filter((_, i) => exists[i]?.[1] === 1);
        for (const m of withRequests) {
          const docs = await requestsOfNumber(options.redis, options.keys, m);
          await this.check(docs.filter((d) => COMPLETABLE.has(d.status)));
        }
      },
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
    const every = this.options.sweepMs ?? 1000;
    const tick = () => {
      this.sweeping = this.sweep()
        .catch((err: Error) => this.options.log.warn({ err: err.message }, 'delink sweep failed'))
        .finally(() => {
          this.sweeping = null;
          if (this.timer) this.timer = setTimeout(tick, every);
        });
    };
    this.timer = setTimeout(tick, every);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sweeping;
    await this.consumer.stop();
  }

  /**
   * Continuous detection: a number whose state now shows a stale linkage (a churn or reassignment
   * landed while a previous owner's linkages are active) and is not in the registry is flagged the
   * moment its state change arrives, with the same event id the backfill scan would use, so the
   * two never flag a number twice.
   */
  private async detect(changes: StateChangeEvent[]): Promise<void> {
    const numbers = [...new Set(changes.map((c) => c.msisdn))];
    if (numbers.length === 0) return;
    const { redis, keys, writer } = this.options;
    const exists = await simsExist(redis, keys, numbers.map(simIdOf));
    const fresh = numbers.filter((_, i) => !exists[i]);
    if (fresh.length === 0) return;
    const readings = await readState(redis, this.options.redisKeyPrefix, fresh);
    const now = (this.options.now ?? Date.now)();
    const events: RecycledSimEvent[] = [];
    for (const r of readings) {
      const v = r.view;
      if (!v?.recycleDate) continue;
      const stale = staleLinkagesOf(v);
      if (stale.length === 0) continue;
      events.push({
        eventId: `detect:${v.msisdn}:${v.recycleDate}`,
        source: 'DETECTOR',
        simId: simIdOf(v.msisdn),
        msisdn: v.msisdn,
        action: 'DETECTED',
        recycleDate: v.recycleDate,
        operator: v.operator,
        cleanupStatus: 'pending',
        linkages: stale,
        actor: 'system:continuous-detection',
        reason: 'active linkage older than the last churn or reassignment',
        occurredAt: now,
        receivedAt: now,
      });
    }
    if (events.length > 0) await writer.sims(events);
  }

  /** Every open request checked once. */
  async sweep(): Promise<void> {
    const ids = await this.options.redis.zrange(this.options.keys.open, 0, -1);
    for (let i = 0; i < ids.length; i += 200) {
      const docs = await readRequests(this.options.redis, this.options.keys, ids.slice(i, i + 200));
      await this.check(docs.filter((d): d is DelinkRequestDoc => d !== null && COMPLETABLE.has(d.status)));
    }
  }

  private async check(docs: DelinkRequestDoc[]): Promise<void> {
    if (docs.length === 0) return;
    const readings = await readState(
      this.options.redis,
      this.options.redisKeyPrefix,
      docs.map((d) => d.msisdn),
    );
    for (let i = 0; i < docs.length; i++) {
      const doc = docs[i]!;
      const view = readings[i]?.view;
      if (!view || !doc.linkages.every((l) => linkageCleared(view, l))) continue;
      if (this.completing.has(doc.id)) continue;
      this.completing.add(doc.id);
      try {
        await this.complete(doc, view);
      } finally {
        this.completing.delete(doc.id);
      }
    }
  }

  private async complete(doc: DelinkRequestDoc, view: StateView): Promise<void> {
    const { redis, keys, writer } = this.options;
    const now = this.options.now ?? Date.now;
    // Read again: the other path may have completed it since this one read it.
    const current = await readRequests(redis, keys, [doc.id]);
    if (!current[0] || !COMPLETABLE.has(current[0].status)) return;
    const t = now();
    const completed = stepOf(doc, 'COMPLETED', `${doc.id}:completed`, t, {
      scope: scopeOf(doc),
      reason: 'every linkage confirmed cleared by its source',
    });
    await writer.delink([completed]);
    // Held until the projector applied it, so the other path reads COMPLETED and does not repeat it
    // (nor its notices). Across a crash the intents are at least once, under the same ids.
    await writer.settled(completed.eventId, 10_000);
    {
      await this.options.notices?.completed(doc, t);
      await this.options.audit({
        actor: 'system:delink-dispatcher',
        organisation: null,
        action: 'DELINK_COMPLETED',
        target: doc.msisdn,
        outcome: 'SUCCESS',
        details: { requestId: doc.id, linkages: doc.linkages.map((l) => l.masked) },
      });
      const staleLeft = staleLinkagesOf(view).length > 0;
      const sim = await readSim(redis, keys, doc.simId);
      if (sim && sim.cleanupStatus !== 'completed' && !staleLeft) {
        await writer.sims([
          cleanupOf(
            doc,
            'completed',
            `${doc.simId}:${doc.id}:completed`,
            `delink request ${doc.id} completed`,
            t,
          ),
        ]);
      }
      this.options.log.info({ requestId: doc.id, msisdn: doc.msisdn }, 'delink request completed');
    }
  }
}
