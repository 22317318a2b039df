import { createKafka } from '@hub/infra';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';
import { Facts, type Received, receiver, startWorker, waitFor } from './support.ts';

// A schedule of seconds instead of hours, and a short timeout, so retries happen inside the test.
process.env.WEBHOOK_RETRY_SCHEDULE = '0,0.3,0.6,0.9';
process.env.WEBHOOK_TIMEOUT_MS = '400';
process.env.WEBHOOK_CONCURRENCY = '4';

let h: Harness;
let facts: Facts;
let worker: Awaited<ReturnType<typeof startWorker>>;
let bankKey: string;
let otherKey: string;
const receivers: { close(): Promise<void> }[] = [];
let n = 0;
/** A number of its own for each test. */
const msisdn = () => `234803${String(1_000_000 + ++n).slice(-7)}`;

async function hook(answer?: Parameters<typeof receiver>[0]) {
  const r = await receiver(answer);
  receivers.push(r);
  return r;
}

async function subscribe(key: string, url: string, events = ['CHURNED', 'SWAPPED', 'REASSIGNED', 'NORMAL']) {
  const res = await h.call('POST', '/api/v1/webhooks/register', { token: key, body: { url, events } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string; organisation: string };
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

beforeAll(async () => {
  h = await createHarness('webhooks');
  bankKey = await h.organisation({
    id: 'FIRSTBANK',
    name: 'First Bank',
    type: 'SERVICE_PROVIDER',
    operatorCode: null,
    ranges: [],
    verifyPerMinute: 100_000,
    generalPerMinute: 100_000,
  });
  otherKey = await h.organisation({
    id: 'OTHERBANK',
    name: 'Other Bank',
    type: 'SERVICE_PROVIDER',
    operatorCode: null,
    ranges: [],
    verifyPerMinute: 100_000,
    generalPerMinute: 100_000,
  });
  const kafka = createKafka(h.config);
  facts = await Facts.create(h.config, kafka);
  worker = await startWorker(h.config, kafka);
});

afterAll(async () => {
  await worker?.stop();
  await facts?.close();
  for (const r of receivers) await r.close();
  await h?.close();
});

describe('webhook subscriptions', () => {
  it('refuses a private address, a bad event and an unknown field, naming the field', async () => {
    const privateUrl = await h.call('POST', '/api/v1/webhooks/register', {
      token: bankKey,
      body: { url: 'http://10.1.2.3/hook', events: ['CHURNED'] },
    });
    expect(privateUrl.status).toBe(400);
    const body = (await privateUrl.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors[0]).toEqual({
      field: 'url',
      message: '10.1.2.3 is a loopback or private address; WEBHOOK_URL_ALLOWLIST does not name it',
    });
    const badEvent = await h.call('POST', '/api/v1/webhooks/register', {
      token: bankKey,
      body: { url: 'http://127.0.0.1:9/x', events: ['EXPLODED'] },
    });
    expect(badEvent.status).toBe(400);
    expect(JSON.stringify(await badEvent.json())).toContain('events[0]');
    const unauthenticated = await h.call('POST', '/api/v1/webhooks/register', {
      body: { url: 'http://127.0.0.1:9/x', events: ['CHURNED'] },
    });
    expect(unauthenticated.status).toBe(401);
  });

  it("lists only the caller's organisation's subscriptions and hides others' from delete", async () => {
    const r = await hook();
    const mine = await subscribe(bankKey, r.url);
    const theirs = await subscribe(otherKey, r.url);
    const list = (await (
      await h.call('GET', '/api/v1/webhooks/subscriptions', { token: bankKey })
    ).json()) as {
      items: { id: string; organisation: string }[];
    };
    expect(list.items.map((s) => s.id)).toContain(mine.id);
    expect(list.items.every((s) => s.organisation === 'FIRSTBANK')).toBe(true);
    expect(JSON.stringify(list)).not.toContain('whsec_');
    const other = await h.call('DELETE', `/api/v1/webhooks/subscriptions/${theirs.id}`, { token: bankKey });
    expect(other.status).toBe(404);
    const bad = await h.call('GET', '/api/v1/webhooks/subscriptions?limit=1000', { token: bankKey });
    expect(bad.status).toBe(400);
    for (const s of [mine, theirs])
      await h.call('DELETE', `/api/v1/webhooks/subscriptions/${s.id}`, {
        token: s === mine ? bankKey : otherKey,
      });
  });
});

describe('webhook delivery', () => {
  it('delivers a status change of a verified number, signed, verifiable with standardwebhooks', async () => {
    const r = await hook();
    const sub = await subscribe(bankKey, r.url);
    const number = msisdn();
    await facts.verified('FIRSTBANK', number, 'BLACKLISTED');
    await facts.verified('OTHERBANK', msisdn());
    await worker.ready(number, 'FIRSTBANK', [sub.id]);
    const sent = Date.now();
    await facts.publish([facts.change(number, 'CHURNED')]);
    const got = await waitFor('the webhook', () => r.got[0]);
    expect(r.got[0]!.headers['content-type']).toContain('application/cloudevents+json');
    const event = verify(sub.secret, got) as { id: string; type: string; data: Record<string, unknown> };
    expect(event.id).toBe(got.headers['webhook-id']);
    expect(event.type).toBe('ng.hub.msisdn.churned');
    expect(event.data).toMatchObject({
      phoneNumber: number,
      status: 'CHURNED',
      previousStatus: 'BLACKLISTED',
      occurrenceOfStatusDate: '2026-12-01',
      mobileNetwork: 'MTN',
      sequence: 2,
    });
    expect(() => verify('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', got)).toThrow();
    console.log(`state change -> webhook received: ${got.at - sent} ms`);
  });

  it('retries on 500s and timeouts on the schedule, with the same webhook-id, and logs every attempt', async () => {
    const r = await hook((k) =>
      k === 1 ? { status: 500 } : k === 2 ? { status: 200, delayMs: 1_000 } : { status: 200 },
    );
    const sub = await subscribe(bankKey, r.url);
    const number = msisdn();
    await facts.verified('FIRSTBANK', number);
    await worker.ready(number, 'FIRSTBANK', [sub.id]);
    await facts.publish([facts.change(number, 'SWAPPED')]);
    await waitFor('three attempts', () => r.got.length >= 3);
    const ids = new Set(r.got.map((g) => g.headers['webhook-id']));
    expect(ids.size).toBe(1);
    const gaps = r.got.slice(1).map((g, i) => g.at - r.got[i]!.at);
    // 0.3 s ±20% after the 500; after the timeout (0.4 s) 0.6 s ±20%.
    expect(gaps[0]).toBeGreaterThanOrEqual(230);
    expect(gaps[1]).toBeGreaterThanOrEqual(0.4 * 1000 + 0.6 * 800 - 30);
    console.log(`retry gaps (ms): ${gaps.join(', ')}`);
    for (const g of r.got) verify(sub.secret, g);
    let page: {
      items: { outcome: string; attempt: number; httpStatus: number | null; error: string | null }[];
      total: number;
    } = {
      items: [],
      total: 0,
    };
    const deadline = Date.now() + 15_000;
    while (page.total < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      page = (await (
        await h.call('GET', `/api/v1/webhooks/subscriptions/${sub.id}/deliveries?limit=10`, {
          token: bankKey,
        })
      ).json()) as typeof page;
    }
    expect(page.items.map((i) => [i.attempt, i.outcome, i.httpStatus])).toEqual([
      [3, 'DELIVERED', 200],
      [2, 'FAILED', null],
      [1, 'FAILED', 500],
    ]);
    expect(page.items[1]!.error).toBe('no answer within 400 ms');
  });

  it('a failing receiver does not delay a healthy one', async () => {
    const dead = await hook(() => ({ status: 503, delayMs: 300 }));
    const healthy = await hook();
    const deadSub = await subscribe(otherKey, dead.url);
    const healthySub = await subscribe(bankKey, healthy.url);
    const numbers = Array.from({ length: 40 }, () => msisdn());
    for (const m of numbers) {
      await facts.verified('FIRSTBANK', m);
      await facts.verified('OTHERBANK', m);
    }
    for (const m of numbers) {
      await worker.ready(m, 'FIRSTBANK', [healthySub.id]);
      await worker.ready(m, 'OTHERBANK', [deadSub.id]);
    }
    const sent = Date.now();
    await facts.publish(numbers.map((m) => facts.change(m, 'CHURNED')));
    await waitFor('every healthy delivery', () => healthy.got.length >= numbers.length);
    const latencies = healthy.got.map((g) => g.at - sent).sort((a, b) => a - b);
    console.log(
      `healthy receiver: ${numbers.length} in ${latencies.at(-1)} ms; dead receiver saw ${dead.got.length}`,
    );
    // The dead endpoint gets at most its concurrency at a time, then its circuit opens.
    expect(latencies.at(-1)).toBeLessThan(2_000);
    expect(dead.got.length).toBeLessThan(numbers.length);
  });

  it('stops delivering to a deleted subscription', async () => {
    const gone = await hook();
    const still = await hook();
    const deleted = await subscribe(bankKey, gone.url);
    const kept = await subscribe(bankKey, still.url);
    const res = await h.call('DELETE', `/api/v1/webhooks/subscriptions/${deleted.id}`, { token: bankKey });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('DELETED');
    const number = msisdn();
    await facts.verified('FIRSTBANK', number);
    await worker.ready(number, 'FIRSTBANK', [kept.id]);
    await waitFor(
      'the worker to drop the deleted subscription',
      () => !worker.worker.subscription(deleted.id),
    );
    await facts.publish([facts.change(number, 'REASSIGNED')]);
    await waitFor('the active subscription', () => still.got[0]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(gone.got).toHaveLength(0);
  });

  it('signs with both secrets during a rotation overlap, and redelivers with the same webhook-id', async () => {
    const r = await hook();
    const sub = await subscribe(bankKey, r.url, ['NORMAL']);
    const rotated = await h.call('POST', `/api/v1/webhooks/subscriptions/${sub.id}/rotate-secret`, {
      token: bankKey,
      body: { overlapSeconds: 600 },
    });
    expect(rotated.status).toBe(201);
    const { secret } = (await rotated.json()) as { secret: string };
    expect(secret).not.toBe(sub.secret);
    const number = msisdn();
    await facts.verified('FIRSTBANK', number, 'SWAPPED');
    await worker.ready(number, 'FIRSTBANK', [sub.id]);
    await waitFor(
      'the worker to hold both secrets',
      () => worker.worker.subscription(sub.id)?.secrets.length === 2,
    );
    await facts.publish([facts.change(number, 'NORMAL')]);
    const first = await waitFor('the webhook', () => r.got[0]);
    verify(secret, first);
    verify(sub.secret, first);
    const id = String(first.headers['webhook-id']);
    // The log is written through Kafka into ClickHouse; the redeliver call reads it from there.
    let status = 404;
    const deadline = Date.now() + 15_000;
    while (status === 404 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (
        await h.call('POST', `/api/v1/webhooks/subscriptions/${sub.id}/deliveries/${id}/redeliver`, {
          token: bankKey,
        })
      ).status;
    }
    expect(status).toBe(202);
    const again = await waitFor('the redelivery', () => r.got[1]);
    expect(again.headers['webhook-id']).toBe(id);
    expect(again.body).toBe(first.body);
  });
});
