import { randomUUID } from 'node:crypto';
import {
  createKafka,
  createLogger,
  createProducer,
  createRedis,
  createSchemaRegistry,
  topicNames,
} from '@hub/infra';
import { type DelinkEvent, EventCodec, type RecycledSimEvent, type WorkflowLinkage } from '@hub/schemas';
import { simIdOf } from '@hub/state/workflow/model';
import { readRequest, waitForProjection, workflowKeys } from '@hub/state/workflow/store';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotices } from '../../delink/src/notices.ts';
import { createWorkflowProjector } from '../../delink/src/projector.ts';
import { startSimulator } from '../../dev-tools/src/simulators/server.ts';
import { createSmsGateway } from '../../dev-tools/src/simulators/sms-gateway.ts';
import {
  DelinkWebhookEventSchema,
  NotificationWebhookEventSchema,
} from '../../query-api/src/routes/webhooks.ts';
import { createHarness, type Harness } from '../security/harness.ts';
import { Facts, organisationsOf, receiver, startWorker, waitFor } from './support.ts';

/**
 * Workflow events through the outbound worker: delink outcomes as webhooks, the workflow's
 * notification intents and recycled-SIM detections as notifications, each once however often
 * its event is replayed, and a webhook notification DELIVERED from its delivery-log record.
 */

let h: Harness;
let worker: Awaited<ReturnType<typeof startWorker>>;
let projector: ReturnType<typeof createWorkflowProjector>;
let sms: Awaited<ReturnType<typeof startSimulator>>;
let producer: Producer;
let codec: EventCodec;
let notices: WorkflowNotices;
let facts: Facts;
let redis: Redis;
let admin: string;
const hooks: Record<'bank' | 'mtn' | 'nibss', Awaited<ReturnType<typeof receiver>>> = {} as never;
const secrets: Record<string, string> = {};
let topics: ReturnType<typeof topicNames>;

const MSISDN = '2348031230001';
const linkages: WorkflowLinkage[] = [
  { kind: 'NIN', token: 'tok-nin-1', masked: '123****8901', linkDate: '2019-03-01' },
];

async function session(org: string, role: Parameters<Harness['user']>[1]): Promise<string> {
  const u = await h.user(org, role);
  return ((await (await h.login(u.email, u.password)).json()) as { access_token: string }).access_token;
}

const bodies = (r: (typeof hooks)['bank']) =>
  r.got.map((g) => JSON.parse(g.body) as { id: string; type: string; data: Record<string, unknown> });

function delink(
  action: DelinkEvent['action'],
  requestId: string,
  extra: Partial<DelinkEvent> = {},
): DelinkEvent {
  const now = Date.now();
  return {
    eventId: randomUUID(),
    source: 'API',
    requestId,
    msisdn: MSISDN,
    action,
    scope: 'NIN',
    actor: 'user:test',
    reason: null,
    occurredAt: now,
    receivedAt: now,
    linkages: [],
    attempt: action === 'APPROVED' ? 1 : 0,
    linkageId: null,
    outcome: null,
    idempotencyKey: null,
    operator: null,
    ...extra,
  };
}

async function publishDelink(events: DelinkEvent[]): Promise<void> {
  await producer.send({
    topic: topics.delink,
    acks: -1,
    messages: events.map((e) => ({ key: e.msisdn, value: codec.encode('delink', e) })),
  });
}

async function notification(id: string, status: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  let last: unknown = null;
  for (;;) {
    const res = await h.call('GET', `/api/v1/notifications/${id}`, { token: admin });
    if (res.status === 200) {
      const n = (await res.json()) as Record<string, unknown>;
      last = n.status;
      if (n.status === status) return n;
    }
    if (Date.now() > deadline) throw new Error(`notification ${id} is ${String(last)}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  sms = await startSimulator(createSmsGateway().app, 0);
  process.env.SMS_GATEWAY_URL = sms.url;
  h = await createHarness('outbound_workflow');
  topics = topicNames(h.config.TOPIC_PREFIX);
  const org = organisationsOf(h);
  await org('HUBOPS', 'HUB', null);
  const keys = {
    // The operator's organisation id is not its operator code: the worker finds it by the code.
    mtn: await org('MTNNG', 'OPERATOR', 'MTN'),
    nibss: await org('NIBSS', 'SERVICE_PROVIDER', null),
    bank: await org('CBANK', 'SERVICE_PROVIDER', null),
  };
  admin = await session('HUBOPS', 'Admin');
  const kafka = createKafka(h.config);
  redis = createRedis(h.config);
  const registry = createSchemaRegistry(h.config);
  codec = new EventCodec(registry);
  await codec.register('delink', topics.delink);
  await codec.register('recycled-sim', topics.recycledSims);
  producer = createProducer(kafka);
  await producer.connect();
  projector = createWorkflowProjector({
    kafka,
    codec,
    redis,
    keys: workflowKeys(h.config.REDIS_KEY_PREFIX),
    topics,
    groupId: `${h.config.TOPIC_PREFIX}workflow-projector`,
    log: createLogger({ ...h.config, LOG_LEVEL: 'warn' }, 'test-projector'),
  });
  await projector.start();
  notices = await WorkflowNotices.create(h.config, topics, producer);
  facts = await Facts.create(h.config, kafka);
  worker = await startWorker(h.config, kafka);
  const events = {
    bank: ['DELINK_APPROVED', 'DELINK_COMPLETED', 'CONFLICTED'],
    mtn: ['DELINK_COMPLETED', 'RECYCLED'],
    nibss: ['DELINK_COMPLETED'],
  };
  const subscriptions: string[] = [];
  for (const who of ['bank', 'mtn', 'nibss'] as const) {
    hooks[who] = await receiver();
    const reg = await h.call('POST', '/api/v1/webhooks/register', {
      token: keys[who],
      body: { url: hooks[who].url, events: events[who] },
    });
    expect(reg.status).toBe(201);
    const sub = (await reg.json()) as { id: string; secret: string };
    secrets[who] = sub.secret;
    subscriptions.push(sub.id);
  }
  // The bank verified the number: it watches it.
  await facts.verified('CBANK', MSISDN);
  await facts.verified('MTNNG', MSISDN);
  await worker.ready(MSISDN, 'CBANK', subscriptions);
  await worker.ready(MSISDN, 'MTNNG');
});

afterAll(async () => {
  await worker?.stop();
  await projector?.stop();
  await facts?.close();
  await producer?.disconnect();
  redis?.disconnect();
  for (const r of Object.values(hooks)) await r?.close();
  await h?.close();
  await sms?.close();
});

describe('workflow events through the outbound worker', () => {
  let requestId: string;

  it('fans delink outcomes out to the watching bank and the operator, only those the workflow applied, each once', async () => {
    requestId = randomUUID();
    const requested = delink('REQUESTED', requestId, { linkages, operator: 'MTN', attempt: 0 });
    const approved = delink('APPROVED', requestId);
    // A second approval loses the race (APPROVED from APPROVED): on the topic, but it did not happen.
    const again = delink('APPROVED', requestId);
    await publishDelink([requested, approved, again]);
    const completed = delink('COMPLETED', requestId, {
      scope: 'ALL',
      reason: 'every linkage confirmed cleared',
    });
    await publishDelink([completed]);
    // A replay of an outcome (same event id) is the same message.
    await publishDelink([completed]);

    const bank = await waitFor('the bank gets approved and completed', () =>
      hooks.bank.got.length >= 2 ? hooks.bank.got : undefined,
    );
    await waitFor('the operator gets completed', () =>
      hooks.mtn.got.find((g) => g.body.includes('delink_completed')),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const types = bodies(hooks.bank).map((b) => b.type);
    expect(types).toEqual(['ng.hub.msisdn.delink_approved', 'ng.hub.msisdn.delink_completed']);
    expect(bodies(hooks.mtn).filter((b) => b.type.startsWith('ng.hub.msisdn.delink'))).toHaveLength(1);
    // NIBSS neither watches the number nor serves it.
    expect(bodies(hooks.nibss).filter((b) => b.type.startsWith('ng.hub.msisdn.delink'))).toHaveLength(0);
    const done = bodies(hooks.bank)[1]!;
    expect(done).toMatchObject({
      specversion: '1.0',
      subject: MSISDN,
      data: {
        phoneNumber: MSISDN,
        event: 'DELINK_COMPLETED',
        requestId,
        status: 'COMPLETED',
        previousStatus: 'APPROVED',
        linkages: ['123****8901'],
        mobileNetwork: 'MTN',
      },
    });
    // The payload is the documented one (OpenAPI component DelinkWebhookEvent), strictly.
    for (const b of bodies(hooks.bank)) {
      DelinkWebhookEventSchema.strict().parse(b);
      expect(Object.keys(b.data).sort()).toEqual(
        Object.keys(DelinkWebhookEventSchema.shape.data.shape).sort(),
      );
    }
    const first = bodies(hooks.bank)[0]!;
    expect(Number(done.data.sequence)).toBeGreaterThan(Number(first.data.sequence));
    expect(() =>
      new Webhook(secrets.bank!).verify(bank[1]!.body, bank[1]!.headers as Record<string, string>),
    ).not.toThrow();
  });

  it('sends the workflow notices once however often they are re-sent, webhook ones DELIVERED from the delivery log', async () => {
    const keys = workflowKeys(h.config.REDIS_KEY_PREFIX);
    const doc = await readRequest(redis, keys, requestId);
    expect(doc?.status).toBe('COMPLETED');
    const mtnBefore = hooks.mtn.got.length;
    const nibssBefore = hooks.nibss.got.length;
    // The dispatcher re-sends an intent after a crash under the same ids: three times here.
    for (let i = 0; i < 3; i++) {
      await notices.approved(doc!, Date.now());
      await notices.completed(doc!, Date.now());
    }
    const subscriber = await notification(`${requestId}:approved:subscriber`, 'DELIVERED');
    expect(subscriber).toMatchObject({ channel: 'SMS', recipient_type: 'SUBSCRIBER', msisdn: MSISDN });
    const operator = await notification(`${requestId}:completed:operator`, 'DELIVERED');
    const nibss = await notification(`${requestId}:completed:nibss`, 'DELIVERED');
    expect(operator).toMatchObject({ channel: 'WEBHOOK', attempts: 1 });
    expect(nibss).toMatchObject({ channel: 'WEBHOOK', recipient: 'NIBSS' });
    // And once more after they went out (a replay well after the fact).
    await notices.approved(doc!, Date.now());
    await notices.completed(doc!, Date.now());
    await new Promise((r) => setTimeout(r, 2_000));
    const texts = (await (await fetch(`${sms.url}/messages?to=${MSISDN}`)).json()) as {
      items: { reference: string }[];
    };
    expect(texts.items.filter((m) => m.reference === `${requestId}:approved:subscriber`)).toHaveLength(1);
    const notes = (r: (typeof hooks)['mtn'], before: number) =>
      bodies(r)
        .slice(before)
        .filter((b) => b.type === 'ng.hub.notification');
    for (const b of notes(hooks.mtn, mtnBefore)) {
      NotificationWebhookEventSchema.strict().parse(b);
      expect(Object.keys(b.data).sort()).toEqual(
        Object.keys(NotificationWebhookEventSchema.shape.data.shape).sort(),
      );
    }
    expect(notes(hooks.mtn, mtnBefore).map((b) => b.data.notificationId)).toEqual([
      `${requestId}:completed:operator`,
    ]);
    expect(notes(hooks.nibss, nibssBefore).map((b) => b.data.notificationId)).toEqual([
      `${requestId}:completed:nibss`,
    ]);
    // The operator's people see the notice addressed to its operator code; a bank does not.
    const ids = async (token: string) =>
      (
        (await (await h.call('GET', `/api/v1/notifications?msisdn=${MSISDN}`, { token })).json()) as {
          items: { id: string }[];
        }
      ).items.map((i) => i.id);
    expect(await ids(await session('MTNNG', 'Operator'))).toContain(`${requestId}:completed:operator`);
    expect(await ids(await session('CBANK', 'ServiceProvider'))).toEqual([]);
    // Still DELIVERED: a re-sent QUEUED does not put it back.
    expect((await notification(`${requestId}:completed:operator`, 'DELIVERED')).status).toBe('DELIVERED');
  });

  it('notifies the operator of a recycled-SIM detection once, replayed or not', async () => {
    const msisdn = '2348031230002';
    const now = Date.now();
    const detected: RecycledSimEvent = {
      eventId: `detect:${msisdn}:2026-11-30`,
      source: 'DETECTOR',
      simId: simIdOf(msisdn),
      msisdn,
      action: 'DETECTED',
      recycleDate: '2026-11-30',
      operator: 'MTN',
      cleanupStatus: 'pending',
      linkages,
      actor: 'system:continuous-detection',
      reason: 'active linkage older than the last churn or reassignment',
      occurredAt: now,
      receivedAt: now,
    };
    const before = hooks.mtn.got.length;
    const send = () =>
      producer.send({
        topic: topics.recycledSims,
        acks: -1,
        messages: [{ key: msisdn, value: codec.encode('recycled-sim', detected) }],
      });
    await send();
    expect(
      await waitForProjection(redis, workflowKeys(h.config.REDIS_KEY_PREFIX), detected.eventId, 10_000),
    ).toBe('applied');
    await send();
    const got = await waitFor('the detection notice', () =>
      bodies(hooks.mtn)
        .slice(before)
        .find((b) => b.type === 'ng.hub.notification'),
    );
    expect(got.data).toMatchObject({
      recipientType: 'OPERATOR',
      phoneNumber: msisdn,
      template: 'RECYCLED_SIM_DETECTED',
    });
    expect(String(got.data.message)).toContain('123****8901');
    const n = await notification(String(got.data.notificationId), 'DELIVERED');
    expect(n).toMatchObject({ recipient: 'MTNNG', organisation: 'MTNNG', msisdn });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(
      bodies(hooks.mtn)
        .slice(before)
        .filter((b) => b.type === 'ng.hub.notification'),
    ).toHaveLength(1);
  });

  it('sends RECYCLED and CONFLICTED to the watchers that picked them', async () => {
    const mtnBefore = hooks.mtn.got.length;
    const bankBefore = hooks.bank.got.length;
    await facts.publish([facts.change(MSISDN, 'CHURNED', { lifecycleStatus: 'RECYCLED', isRecycled: true })]);
    await facts.publish([facts.change(MSISDN, 'CHURNED', { lifecycleStatus: 'CONFLICTED' })]);
    const recycled = await waitFor('RECYCLED at the operator', () =>
      bodies(hooks.mtn)
        .slice(mtnBefore)
        .find((b) => b.type === 'ng.hub.msisdn.recycled'),
    );
    const conflicted = await waitFor('CONFLICTED at the bank', () =>
      bodies(hooks.bank)
        .slice(bankBefore)
        .find((b) => b.type === 'ng.hub.msisdn.conflicted'),
    );
    expect(recycled.data).toMatchObject({
      event: 'RECYCLED',
      lifecycleStatus: 'RECYCLED',
      previousLifecycleStatus: 'ACTIVE',
    });
    expect(conflicted.data).toMatchObject({ event: 'CONFLICTED', previousLifecycleStatus: 'RECYCLED' });
    // Neither picked the other's event, nor CHURNED.
    expect(
      bodies(hooks.mtn)
        .slice(mtnBefore)
        .map((b) => b.type),
    ).toEqual(['ng.hub.msisdn.recycled']);
    expect(
      bodies(hooks.bank)
        .slice(bankBefore)
        .map((b) => b.type),
    ).toEqual(['ng.hub.msisdn.conflicted']);
  });
});
