import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';

export interface SmsMessage {
  id: string;
  to: string;
  from: string;
  text: string;
  reference: string | null;
  status: 'DELIVERED' | 'FAILED';
  receivedAt: string;
}

/**
 * A stand-in for an SMS gateway's HTTP API: `POST /messages {to, from?, text, reference?}` answers
 * 202 with the message id and its delivery status (a real gateway reports delivery later; this one
 * "delivers" at once, or fails a number listed in `failing`); `GET /messages` is the outbox, newest
 * last, optionally `?to=` one number. `POST /messages` with a malformed body answers 400.
 */
export function createSmsGateway(options: { failing?: readonly string[] } = {}): {
  app: Hono;
  outbox: SmsMessage[];
} {
  const outbox: SmsMessage[] = [];
  const failing = new Set(options.failing ?? []);
  const app = new Hono();
  app.post('/messages', async (c) => {
    const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
    const to = typeof body?.to === 'string' ? body.to : '';
    const text = typeof body?.text === 'string' ? body.text : '';
    if (!/^\+?\d{10,15}$/.test(to)) return c.json({ error: 'to: must be a phone number' }, 400);
    if (text.length === 0 || text.length > 1600) return c.json({ error: 'text: 1 to 1600 characters' }, 400);
    const message: SmsMessage = {
      id: randomUUID(),
      to,
      from: typeof body?.from === 'string' ? body.from : 'HUB',
      text,
      reference: typeof body?.reference === 'string' ? body.reference : null,
      status: failing.has(to) ? 'FAILED' : 'DELIVERED',
      receivedAt: new Date().toISOString(),
    };
    outbox.push(message);
    return c.json({ id: message.id, status: message.status }, 202);
  });
  app.get('/messages', (c) => {
    const to = c.req.query('to');
    return c.json({ items: to ? outbox.filter((m) => m.to === to) : outbox });
  });
  return { app, outbox };
}
