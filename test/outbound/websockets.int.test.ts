import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createKafka, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { OutboundCodec, type SubscriptionEvent } from '@hub/outbound';
import { type DelinkEvent, EventCodec } from '@hub/schemas';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createHarness, type Harness } from '../security/harness.ts';
import { Facts, organisationsOf, waitFor } from './support.ts';

/**
 * The 1 s target of each channel is measured by the bench (`npm run bench`, WebSocket fan-out
 * row), on a quiet machine; here, beside the rest of the suite running in parallel, the test holds
 * delivery to a bound that only a lost or stuck message breaks, and prints the latencies it saw.
 */
const DELIVERY_BOUND_MS = 3_000;

let h: Harness;
let server: Server;
let base: string;
let facts: Facts;
let producer: Producer;
let codec: EventCodec;
let notificationCodec: OutboundCodec<Record<string, unknown>>;
let subscriptionCodec: OutboundCodec<SubscriptionEvent>;
const tokens: Record<'admin' | 'mtn' | 'airtel' | 'bank', string> = {
  admin: '',
  mtn: '',
  airtel: '',
  bank: '',
};
const open: WebSocket[] = [];

interface Message {
  channel: string;
  type: string;
  data: Record<string, unknown>;
  receivedAt: number;
}

async function session(org: string, role: Parameters<Harness['user']>[1]): Promise<string> {
  const u = await h.user(org, role);
  const res = await h.login(u.email, u.password);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Opens a channel; resolves with the socket and what it received, once subscribed. */
async function connect(path: string): Promise<{ ws: WebSocket; got: Message[] }> {
  const ws = new WebSocket(`${base}${path}`);
  open.push(ws);
  const got: Message[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as Message;
      if (m.type === 'SUBSCRIBED') resolve();
      else got.push({ ...m, receivedAt: Date.now() });
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
  return { ws, got };
}

async function refusal(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}${path}`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

beforeAll(async () => {
  h = await createHarness('websockets');
  const org = organisationsOf(h);
  await org('HUBADMIN', 'HUB', null);
  await org('MTNNG', 'OPERATOR', 'MTN');
  await org('AIRTELNG', 'OPERATOR', 'AIRTEL');
  await org('ZBANK', 'SERVICE_PROVIDER', null);
  tokens.admin = await session('HUBADMIN', 'Admin');
  tokens.mtn = await session('MTNNG', 'Operator');
  tokens.airtel = await session('AIRTELNG', 'Operator');
  tokens.bank = await session('ZBANK', 'ServiceProvider');
  server = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  h.resources.channels.attach(server);
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kafka = createKafka(h.config);
  facts = await Facts.create(h.config, kafka);
  producer = createProducer(kafka);
  await producer.connect();
  const registry = createSchemaRegistry(h.config);
  const topics = topicNames(h.config.TOPIC_PREFIX);
  codec = new EventCodec(registry);
  await codec.register('delink', topics.delink);
  notificationCodec = await new OutboundCodec<Record<string, unknown>>(registry, 'notification').register(
    topics.notifications,
  );
  subscriptionCodec = await new OutboundCodec<SubscriptionEvent>(registry, 'webhook-subscription').register(
    topics.webhookSubscriptions,
  );
});

afterAll(async () => {
  for (const ws of open) ws.terminate();
  server?.close();
  await producer?.disconnect();
  await facts?.close();
  await h?.close();
});

describe('WebSocket channels', () => {
  it('refuses a missing or bad token (401), an unknown channel (404) and a role the channel is closed to (403)', async () => {
    expect(await refusal('/ws/sim_alerts')).toBe(401);
    expect(await refusal('/ws/sim_alerts?token=not-a-jwt')).toBe(401);
    expect(await refusal(`/ws/gossip?token=${tokens.admin}`)).toBe(404);
    expect(await refusal(`/ws/sim_alerts?token=${tokens.bank}`)).toBe(403);
    const plain = await h.call('GET', '/ws/sim_alerts');
    expect(plain.status).toBe(426);
  });

  it("delivers sim_alerts promptly, an operator seeing only its own numbers'", async () => {
    const admin = await connect(`/ws/sim_alerts?token=${tokens.admin}`);
    const mtn = await connect(`/api/v1/ws/sim_alerts?token=${tokens.mtn}`);
    const airtel = await connect(`/ws/sim_alerts?token=${tokens.airtel}`);
    const sent = Date.now();
    await facts.publish([facts.change('2348031234567', 'SWAPPED', { operator: 'MTN' })]);
    const a = await waitFor('admin alert', () => admin.got[0], 5_000);
    const m = await waitFor('MTN alert', () => mtn.got[0], 5_000);
    expect(a.type).toBe('SIM_SWAPPED');
    expect(m.data.msisdn).toBe('2348031234567');
    expect(a.receivedAt - sent).toBeLessThan(DELIVERY_BOUND_MS);
    expect(m.receivedAt - sent).toBeLessThan(DELIVERY_BOUND_MS);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(airtel.got).toHaveLength(0);
    console.log(`sim_alerts: ${a.receivedAt - sent} ms`);
  });

  it('delivers delink_updates, notifications and system messages promptly', async () => {
    const delink = await connect(`/ws/delink_updates?token=${tokens.mtn}`);
    const notes = await connect(`/ws/notifications?token=${tokens.mtn}`);
    const system = await connect(`/ws/system?token=${tokens.bank}`);
    const otherBank = await connect(`/ws/system?token=${tokens.admin}`);
    const now = Date.now();
    const d: DelinkEvent = {
      eventId: randomUUID(),
      source: 'API',
      requestId: randomUUID(),
      msisdn: '2348031234567',
      action: 'APPROVED',
      scope: 'ALL',
      actor: 'user:test',
      reason: null,
      occurredAt: now,
      receivedAt: now,
    };
    const topics = topicNames(h.config.TOPIC_PREFIX);
    await producer.send({
      topic: topics.delink,
      acks: -1,
      messages: [{ key: d.msisdn, value: codec.encode('delink', d) }],
    });
    await producer.send({
      topic: topics.notifications,
      acks: -1,
      messages: [
        {
          key: 'n1',
          value: notificationCodec.encode({
            eventId: randomUUID(),
            source: 'API',
            id: 'n1',
            recipientType: 'OPERATOR',
            recipient: 'MTNNG',
            channel: 'WEBHOOK',
            msisdn: '2348031234567',
            template: null,
            message: 'recycled SIM detected',
            subject: null,
            organisation: 'MTNNG',
            status: 'QUEUED',
            attempts: 0,
            lastError: null,
            actor: 'user:test',
            createdAt: now,
            occurredAt: now,
            receivedAt: now,
          }),
        },
      ],
    });
    const sub = {
      id: 'whsub_test',
      organisation: 'ZBANK',
      url: 'https://hooks.zbank.example/x',
      events: ['CHURNED'],
      description: null,
      secrets: [],
      active: false,
      createdAt: now,
      createdBy: 'key:x',
      deletedAt: null,
      disabledAt: now,
      disabledReason: 'no successful delivery since yesterday',
    };
    await producer.send({
      topic: topics.webhookSubscriptions,
      acks: -1,
      messages: [
        {
          key: sub.id,
          value: subscriptionCodec.encode({
            eventId: randomUUID(),
            source: 'WORKER',
            type: 'DISABLED',
            actor: 'system:outbound',
            subscription: sub,
            occurredAt: now,
            receivedAt: now,
          }),
        },
      ],
    });
    const got = await Promise.all([
      waitFor('delink update', () => delink.got[0], 5_000),
      waitFor('notification', () => notes.got[0], 5_000),
      waitFor('system message', () => system.got[0], 5_000),
      waitFor('system message for the admin', () => otherBank.got[0], 5_000),
    ]);
    expect(got.map((g) => g.type)).toEqual([
      'DELINK_APPROVED',
      'NOTIFICATION_QUEUED',
      'WEBHOOK_ENDPOINT_DISABLED',
      'WEBHOOK_ENDPOINT_DISABLED',
    ]);
    for (const g of got) expect(g.receivedAt - now).toBeLessThan(DELIVERY_BOUND_MS);
    console.log(`delink/notifications/system: ${got.map((g) => g.receivedAt - now).join(', ')} ms`);
  });
});
