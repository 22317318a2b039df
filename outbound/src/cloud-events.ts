import { createHash } from 'node:crypto';
import type { StateChangeEvent } from '@hub/schemas';
import type { Statuses } from './watch-list.ts';

/** The `data` of a webhook: the TIRMS fields, plus what made it fire and the order key. */
export interface WebhookData {
  phoneNumber: string;
  status: string | null;
  previousStatus: string | null;
  occurrenceOfStatusDate: string | null;
  reassignmentDate: string | null;
  mobileNetwork: string | null;
  event: string;
  lifecycleStatus: string | null;
  previousLifecycleStatus: string | null;
  /** The number's state version: a receiver orders one number's events by it. */
  sequence: number;
}

/** A CloudEvents 1.0 event in structured JSON mode. */
export interface WebhookCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /** CloudEvents `sequence` extension (a string, per the extension). */
  sequence: string;
  data: WebhookData;
}

export const CLOUD_EVENT_SOURCE = 'urn:ng:msisdn-hub';

/** `ng.hub.msisdn.churned` for CHURNED. */
export const cloudEventType = (event: string) => `ng.hub.msisdn.${event.toLowerCase()}`;

/**
 * The webhook-id of one event for one subscription: derived, not random, so every attempt and
 * every replay of the same state change after a crash carries the same id.
 */
export function webhookId(subscriptionId: string, causeId: string, event: string): string {
  return `msg_${createHash('sha256').update(`${subscriptionId}\n${causeId}\n${event}`).digest('base64url').slice(0, 27)}`;
}

/** What a change means for subscribers: the new telecom status, and RECYCLED/CONFLICTED when entered. */
export function eventsOf(change: StateChangeEvent, before: Statuses): string[] {
  const out: string[] = [];
  if (change.telecomStatus !== null && change.telecomStatus !== before.telecom)
    out.push(change.telecomStatus);
  for (const finding of ['RECYCLED', 'CONFLICTED'] as const)
    if (change.lifecycleStatus === finding && before.lifecycle !== finding) out.push(finding);
  return out;
}

export function stateChangeCloudEvent(
  id: string,
  event: string,
  change: StateChangeEvent,
  before: Statuses,
): WebhookCloudEvent {
  return {
    specversion: '1.0',
    id,
    source: CLOUD_EVENT_SOURCE,
    type: cloudEventType(event),
    subject: change.msisdn,
    time: new Date(change.occurredAt).toISOString(),
    datacontenttype: 'application/json',
    sequence: String(change.version),
    data: {
      phoneNumber: change.msisdn,
      status: change.telecomStatus,
      previousStatus: before.telecom,
      occurrenceOfStatusDate: change.statusDate,
      reassignmentDate: change.reassignmentDate,
      mobileNetwork: change.operator,
      event,
      lifecycleStatus: change.lifecycleStatus,
      previousLifecycleStatus: before.lifecycle,
      sequence: change.version,
    },
  };
}

const BODY_HEAD = '{"specversion":"1.0","id":';

/**
 * The JSON body of one event of a change for any subscription: the subscriptions' bodies differ
 * only in `id` (the webhook-id), the second member, so the rest is serialised once and each id
 * spliced in. The bytes are JSON.stringify's of stateChangeCloudEvent with that id.
 */
export function stateChangeBodies(
  event: string,
  change: StateChangeEvent,
  before: Statuses,
): (id: string) => string {
  const json = JSON.stringify(stateChangeCloudEvent('', event, change, before));
  const tail = json.slice(BODY_HEAD.length + 2);
  return (id) => `${BODY_HEAD}${JSON.stringify(id)}${tail}`;
}
