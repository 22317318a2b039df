import nodemailer from 'nodemailer';
import type { NotificationEvent } from './model.ts';

/** What a channel adapter reports: delivered, handed on (sent), or a failure that may be retried. */
export type SendResult =
  | { status: 'DELIVERED' | 'SENT' }
  | { status: 'FAILED'; error: string; retry: boolean };

export interface ChannelAdapter {
  send(n: NotificationEvent): Promise<SendResult>;
}

/**
 * SMS through an HTTP gateway (`POST <SMS_GATEWAY_URL>/messages {to, text, reference}`), the
 * local simulator by default; configuration alone points it at a real gateway.
 */
export class SmsAdapter implements ChannelAdapter {
  constructor(
    private readonly gatewayUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(n: NotificationEvent): Promise<SendResult> {
    const to = n.recipient ?? n.msisdn;
    if (!to) return { status: 'FAILED', error: 'no phone number to send to', retry: false };
    try {
      const res = await fetch(new URL('/messages', this.gatewayUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to, text: n.message, reference: n.id }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const body = (await res.json().catch(() => ({}))) as { status?: string; error?: string };
      if (res.status >= 400 && res.status < 500)
        return { status: 'FAILED', error: `gateway refused: ${body.error ?? res.status}`, retry: false };
      if (!res.ok) return { status: 'FAILED', error: `gateway answered ${res.status}`, retry: true };
      if (body.status === 'FAILED')
        return { status: 'FAILED', error: 'gateway reports the message undeliverable', retry: false };
      return { status: body.status === 'DELIVERED' ? 'DELIVERED' : 'SENT' };
    } catch (err) {
      return { status: 'FAILED', error: (err as Error).message, retry: true };
    }
  }
}

/** E-mail over SMTP with nodemailer (the local sink by default). */
export class EmailAdapter implements ChannelAdapter {
  private readonly transport;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(n: NotificationEvent): Promise<SendResult> {
    if (!n.recipient?.includes('@'))
      return { status: 'FAILED', error: 'no e-mail address to send to', retry: false };
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: n.recipient,
        subject: n.subject ?? 'Notification',
        text: n.message,
        headers: { 'X-Notification-Id': n.id },
      });
      return info.accepted.length > 0
        ? { status: 'DELIVERED' }
        : { status: 'FAILED', error: `refused: ${info.rejected.join(', ')}`, retry: false };
    } catch (err) {
      return { status: 'FAILED', error: (err as Error).message, retry: true };
    }
  }

  close(): void {
    this.transport.close();
  }
}
