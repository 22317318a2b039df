import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { CLOUD_EVENT_SOURCE, webhookId } from '../cloud-events.ts';
import type { OutboundCodec } from '../codec.ts';
import type { DeliveryQueue, NewMessage } from '../queue.ts';
import type { Subscription } from '../subscriptions.ts';
import type { ChannelAdapter, SendResult } from './adapters.ts';
import type { NotificationEvent, NotificationStatus, NotificationStore } from './model.ts';

/** Delays before the second and third attempt of a notification (the first is at once). */
export const NOTIFICATION_RETRY_MS = [1_000, 4_000] as const;

export interface NotificationSenderOptions {
  producer: Producer;
  codec: OutboundCodec<NotificationEvent>;
  topic: string;
  sms: ChannelAdapter;
  email: ChannelAdapter;
  queue: DeliveryQueue;
  /** Active webhook subscriptions of an organisation or operator code (OPERATOR and NIBSS recipients). */
  subscriptionsOf(organisation: string): Subscription[] | Promise<Subscription[]>;
  /** The projection: each new status is held there at once, so a duplicate QUEUED behind it is not sent again. */
  store?: NotificationStore;
  kick(): void;
  retryMs?: readonly number[];
}

/**
 * Sends a QUEUED notification through its channel's adapter, retrying a retryable failure, and
 * records each step (SENT, DELIVERED or FAILED, with the attempts) as a new snapshot on the topic.
 * WEBHOOK notifications are queued to the recipient organisation's webhook endpoints, which then
 * deliver them with the same signing, retries and log as status webhooks; SENT means queued there.
 */
export class NotificationSender {
  constructor(private readonly o: NotificationSenderOptions) {}

  async deliver(n: NotificationEvent): Promise<void> {
    const delays = this.o.retryMs ?? NOTIFICATION_RETRY_MS;
    let attempts = n.attempts;
    let result: SendResult = { status: 'FAILED', error: 'not attempted', retry: false };
    for (let i = 0; i <= delays.length; i++) {
      attempts++;
      result = await this.attempt(n);
      if (result.status !== 'FAILED' || !result.retry || i === delays.length) break;
      await new Promise((r) => setTimeout(r, delays[i]));
    }
    if (result.status === 'FAILED') {
      await this.publish({ ...n, status: 'FAILED', attempts, lastError: result.error });
      return;
    }
    await this.publish({ ...n, status: 'SENT', attempts, lastError: null });
    if (result.status === 'DELIVERED')
      await this.publish({ ...n, status: 'DELIVERED', attempts, lastError: null });
  }

  private async attempt(n: NotificationEvent): Promise<SendResult> {
    if (n.channel === 'SMS') return this.o.sms.send(n);
    if (n.channel === 'EMAIL') return this.o.email.send(n);
    const organisation = n.recipient ?? n.organisation;
    if (!organisation) return { status: 'FAILED', error: 'no recipient organisation', retry: false };
    const subs = await this.o.subscriptionsOf(organisation);
    if (subs.length === 0)
      return { status: 'FAILED', error: `${organisation} has no active webhook subscription`, retry: false };
    const messages: NewMessage[] = subs.map((sub) => {
      const id = webhookId(sub.id, n.id, 'NOTIFICATION');
      return {
        subscriptionId: sub.id,
        id,
        eventType: 'NOTIFICATION',
        msisdn: n.msisdn ?? '',
        sequence: 0,
        body: JSON.stringify({
          specversion: '1.0',
          id,
          source: CLOUD_EVENT_SOURCE,
          type: 'ng.hub.notification',
          subject: n.msisdn ?? n.id,
          time: new Date(n.createdAt).toISOString(),
          datacontenttype: 'application/json',
          data: {
            notificationId: n.id,
            recipientType: n.recipientType,
            phoneNumber: n.msisdn,
            template: n.template,
            subject: n.subject,
            message: n.message,
          },
        }),
      };
    });
    const now = Date.now();
    await this.o.queue.enqueue(messages, now, now);
    this.o.kick();
    return { status: 'SENT' };
  }

  /** A new status learnt elsewhere (a webhook notification's delivery outcome, from the delivery log). */
  async record(
    n: NotificationEvent,
    status: NotificationStatus,
    attempts: number,
    lastError: string | null,
  ): Promise<void> {
    await this.publish({ ...n, status, attempts, lastError });
  }

  /** New notifications (automatic ones from workflow events), QUEUED on the topic for the worker to send. */
  async queue(notifications: readonly NotificationEvent[]): Promise<void> {
    if (notifications.length === 0) return;
    await this.o.producer.send({
      topic: this.o.topic,
      acks: -1,
      messages: notifications.map((n) => ({ key: n.id, value: this.o.codec.encode(n) })),
    });
  }

  private async publish(n: NotificationEvent): Promise<void> {
    const now = Date.now();
    const snapshot: NotificationEvent = {
      ...n,
      eventId: randomUUID(),
      source: 'WORKER',
      occurredAt: now,
      receivedAt: now,
    };
    await this.o.producer.send({
      topic: this.o.topic,
      acks: -1,
      messages: [{ key: n.id, value: this.o.codec.encode(snapshot) }],
    });
    await this.o.store?.apply(snapshot);
  }
}

/** Password-reset and other account mail as a `Notifier` for the security package, over SMTP. */
export function mailNotifier(
  email: ChannelAdapter,
): (n: { to: string; subject: string; body: string }) => Promise<void> {
  return async (n) => {
    const now = Date.now();
    const result = await email.send({
      eventId: randomUUID(),
      source: 'API',
      id: randomUUID(),
      recipientType: 'SUBSCRIBER',
      recipient: n.to,
      channel: 'EMAIL',
      msisdn: null,
      template: 'PASSWORD_RESET',
      message: n.body,
      subject: n.subject,
      organisation: null,
      status: 'QUEUED',
      attempts: 0,
      lastError: null,
      actor: 'system:security',
      createdAt: now,
      occurredAt: now,
      receivedAt: now,
    });
    if (result.status === 'FAILED') throw new Error(`mail to ${n.to} failed: ${result.error}`);
  };
}
