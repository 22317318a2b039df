import { createHash } from 'node:crypto';
import type { DelinkEvent, RecycledSimEvent } from '@hub/schemas';
import type { DelinkRequestDoc, RecycledSimDoc, Transition } from '@hub/state/workflow/model';
import type { WorkflowKeys } from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import { CLOUD_EVENT_SOURCE, cloudEventType } from './cloud-events.ts';
import type { NotificationEvent } from './notifications/model.ts';
import { render } from './notifications/model.ts';

/**
 * Workflow events for the outbound worker: delink outcomes fanned out to webhooks, recycled-SIM
 * detections turned into operator notifications. Only what the workflow projection applied goes
 * out (a command that lost a race, e.g. an approval after a cancel, is on the topic but did not
 * happen), so the worker waits for the projection to reach a record before acting on it.
 */

/** The delink actions a webhook subscription can pick, as `DELINK_<action>`. */
export const DELINK_OUTCOMES = ['APPROVED', 'REJECTED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type DelinkOutcome = (typeof DELINK_OUTCOMES)[number];

export const isDelinkOutcome = (action: string): action is DelinkOutcome =>
  (DELINK_OUTCOMES as readonly string[]).includes(action);

/** The `data` of a delink-outcome webhook (CloudEvents type `ng.hub.msisdn.delink_<action>`). */
export interface DelinkWebhookData {
  phoneNumber: string;
  event: string;
  requestId: string;
  /** The request's state after the step, and before it. */
  status: string;
  previousStatus: string | null;
  scope: string;
  reason: string | null;
  /** The previous owner's linkages the request clears, masked. */
  linkages: string[];
  attempt: number;
  occurrenceOfStatusDate: string;
  mobileNetwork: string | null;
  /** The event's position in the delink log: a receiver orders one number's delink events by it. */
  sequence: number;
}

export function delinkCloudEvent(
  id: string,
  e: DelinkEvent,
  doc: DelinkRequestDoc | null,
  step: Transition | null,
  sequence: number,
) {
  const event = `DELINK_${e.action}`;
  const data: DelinkWebhookData = {
    phoneNumber: e.msisdn,
    event,
    requestId: e.requestId,
    status: step?.to ?? e.action,
    previousStatus: step?.from ?? null,
    scope: e.scope,
    reason: e.reason,
    linkages: doc?.linkages.map((l) => l.masked) ?? [],
    attempt: e.attempt ?? doc?.attempt ?? 0,
    occurrenceOfStatusDate: new Date(e.occurredAt).toISOString().slice(0, 10),
    mobileNetwork: doc?.operator ?? e.operator ?? null,
    sequence,
  };
  return {
    specversion: '1.0' as const,
    id,
    source: CLOUD_EVENT_SOURCE,
    type: cloudEventType(event),
    subject: e.msisdn,
    time: new Date(e.occurredAt).toISOString(),
    datacontenttype: 'application/json' as const,
    sequence: String(sequence),
    data,
  };
}

/** The notification id of a workflow event for one recipient: derived, so a replay is the same notification. */
export function notificationIdOf(eventId: string, recipientType: string): string {
  return `ntf_${createHash('sha256').update(`${eventId}\n${recipientType}`).digest('hex').slice(0, 20)}`;
}

/** A recycled-SIM detection as a QUEUED notification to the number's operator, over its webhooks. */
export function detectionNotice(e: RecycledSimEvent, operatorOrganisation: string | null, now: number) {
  const text = render('RECYCLED_SIM_DETECTED', { msisdn: e.msisdn });
  const linkages = e.linkages.map((l) => l.masked);
  const n: NotificationEvent = {
    eventId: `${notificationIdOf(e.eventId, 'OPERATOR')}:queued`,
    source: 'DETECTION',
    id: notificationIdOf(e.eventId, 'OPERATOR'),
    recipientType: 'OPERATOR',
    recipient: operatorOrganisation ?? e.operator,
    channel: 'WEBHOOK',
    msisdn: e.msisdn,
    template: 'RECYCLED_SIM_DETECTED',
    message:
      linkages.length > 0 ? `${text.text} Previous-owner linkages: ${linkages.join(', ')}.` : text.text,
    subject: text.subject,
    organisation: operatorOrganisation ?? e.operator,
    status: 'QUEUED',
    attempts: 0,
    lastError: null,
    actor: e.actor,
    createdAt: e.occurredAt,
    occurredAt: now,
    receivedAt: now,
  };
  return n;
}

export type Verdict = { applied: true; step: Transition | null } | { applied: false; reason: string };

/**
 * Reads of the workflow projection (state/src/workflow/store.ts) the worker needs: how far it has
 * applied a partition, and what became of given events.
 */
export class WorkflowView {
  constructor(
    private readonly redis: Redis,
    private readonly keys: WorkflowKeys,
  ) {}

  /** Waits until the projection has applied `topic`/`partition` up to `offset`; false after `timeoutMs`. */
  async reached(topic: string, partition: number, offset: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let pause = 5; ; pause = Math.min(100, pause * 2)) {
      const at = await this.redis.hget(this.keys.cursor, `${topic}:${partition}`);
      if (at !== null && BigInt(at) >= BigInt(offset)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  /** Each delink event's verdict and its request (one round trip for the verdicts, one for the requests). */
  async delink(
    events: readonly DelinkEvent[],
  ): Promise<{ verdict: Verdict; doc: DelinkRequestDoc | null }[]> {
    if (events.length === 0) return [];
    const seen = await this.redis.mget(...events.map((e) => this.keys.seen(e.eventId)));
    const raws = await this.redis.mget(...events.map((e) => this.keys.request(e.requestId)));
    return events.map((e, i) => {
      const doc = raws[i] ? (JSON.parse(raws[i]!) as DelinkRequestDoc) : null;
      const step = doc?.transitions.find((t) => t.eventId === e.eventId) ?? null;
      // The verdict is kept an hour; after that, an applied event is still among the request's
      // transitions. A duplicate (a replay of an applied event) goes out again under the same ids.
      const said = seen[i];
      const verdict: Verdict =
        said === 'applied' || said === 'duplicate' || (said === null && step)
          ? { applied: true, step }
          : { applied: false, reason: said ?? 'not in the workflow projection' };
      return { verdict, doc };
    });
  }

  /** Each registry event's verdict. */
  async sims(events: readonly RecycledSimEvent[]): Promise<Verdict[]> {
    if (events.length === 0) return [];
    const seen = await this.redis.mget(...events.map((e) => this.keys.seen(e.eventId)));
    const raws = await this.redis.mget(...events.map((e) => this.keys.sim(e.simId)));
    return events.map((e, i) => {
      const doc = raws[i] ? (JSON.parse(raws[i]!) as RecycledSimDoc) : null;
      const said = seen[i];
      if (
        said === 'applied' ||
        said === 'duplicate' ||
        (said === null && doc?.history.some((h) => h.eventId === e.eventId))
      )
        return { applied: true, step: null };
      return { applied: false, reason: said ?? 'not in the workflow projection' };
    });
  }
}
