import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryLog, DeliveryRecord } from './delivery-log.ts';
import { Dispatcher } from './dispatcher.ts';
import type { DeliveryQueue, QueuedMessage } from './queue.ts';
import { newSigningSecret, SecretBox } from './secrets.ts';
import type { Subscription } from './subscriptions.ts';

const box = new SecretBox('unit-test-master-key-unit-test-master-key');

/** A receiver that holds every request until `answerAll`, so a test sees what is in flight. */
async function holdingReceiver() {
  const held: ServerResponse[] = [];
  const ids: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ids.push(String(req.headers['webhook-id']));
      held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    held,
    ids,
    answerAll() {
      for (const res of held.splice(0)) res.writeHead(200).end('ok');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The queue as the dispatcher uses it: claims from an in-memory list, outcomes recorded. */
function fakeQueue(messages: QueuedMessage[]) {
  const claims: { limit: number; leaseMs: number }[] = [];
  const succeeded: string[] = [];
  const queue = {
    async claim(wants: readonly { subscriptionId: string; limit: number }[], _now: number, leaseMs: number) {
      const out: QueuedMessage[] = [];
      for (const w of wants) {
        claims.push({ limit: w.limit, leaseMs });
        out.push(...messages.splice(0, w.limit));
      }
      return out;
    },
    async succeeded(m: QueuedMessage) {
      succeeded.push(m.id);
    },
    async failed() {
      return Date.now();
    },
  };
  return { queue: queue as unknown as DeliveryQueue, claims, succeeded };
}

function fakeLog() {
  const records: DeliveryRecord[] = [];
  const log = {
    async record(r: DeliveryRecord) {
      records.push(r);
    },
  };
  return { log: log as unknown as DeliveryLog, records };
}

const message = (i: number): QueuedMessage => ({
  subscriptionId: 'whsub_unit',
  id: `msg_${i}`,
  body: `{"n":${i}}`,
  attempts: 0,
  eventType: 'CHURNED',
  msisdn: '2348031234567',
  sequence: i,
  firstQueuedAt: 0,
});

const subscriptionFor = (url: string): Subscription => ({
  id: 'whsub_unit',
  organisation: 'BANK',
  url,
  events: ['CHURNED'],
  description: null,
  secrets: [{ ciphertext: box.seal(newSigningSecret()), createdAt: 0, expiresAt: null }],
  active: true,
  createdAt: 0,
  createdBy: 'test',
  deletedAt: null,
  disabledAt: null,
  disabledReason: null,
});

const until = async (what: string, probe: () => boolean) => {
  const deadline = Date.now() + 5_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('webhook dispatcher', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setUp(messages: QueuedMessage[], now?: () => number) {
    const hook = await holdingReceiver();
    const q = fakeQueue(messages);
    const l = fakeLog();
    const dispatcher = new Dispatcher({
      queue: q.queue,
      log: l.log,
      box,
      urlPolicy: { production: false, allowlist: ['127.0.0.0/8'] },
      schedule: [0, 5],
      timeoutMs: 2_000,
      concurrency: 2,
      disableAfterMs: 86_400_000,
      onDisable: async () => {},
      pollMs: 10_000,
      ...(now ? { now } : {}),
    });
    dispatcher.upsert(subscriptionFor(hook.url));
    cleanups.push(async () => {
      hook.answerAll();
      await dispatcher.stop();
      await hook.close();
    });
    return { hook, dispatcher, ...q, ...l };
  }

  it('keeps at most `concurrency` attempts in flight, and sends claimed-ahead messages as slots free up, in order', async () => {
    const { hook, dispatcher, claims, succeeded, records } = await setUp(
      Array.from({ length: 6 }, (_, i) => message(i)),
    );
    dispatcher.start();
    await until('two requests in flight', () => hook.held.length === 2);
    // One claim took the slots and three rounds ahead; nothing more went out meanwhile.
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.held.length).toBe(2);
    expect(claims[0]!.limit).toBe(8);
    const claimsBefore = claims.length;
    hook.answerAll();
    await until('the next two', () => hook.held.length === 2 && hook.ids.length === 4);
    hook.answerAll();
    await until('the last two', () => hook.held.length === 2 && hook.ids.length === 6);
    hook.answerAll();
    await until('six outcomes', () => succeeded.length === 6);
    expect(hook.ids).toEqual(['msg_0', 'msg_1', 'msg_2', 'msg_3', 'msg_4', 'msg_5']);
    expect(records.map((r) => r.outcome)).toEqual(Array(6).fill('DELIVERED'));
    // The later four went out from the ready list, not from claims made after the first answers
    // (those found the queue empty).
    expect(claims.length - claimsBefore).toBeLessThanOrEqual(2);
  });

  it('leaves a claimed message that waited past its lease margin to be claimed again, unsent', async () => {
    let clock = 1_000_000;
    const { hook, dispatcher, succeeded } = await setUp(
      Array.from({ length: 3 }, (_, i) => message(i)),
      () => clock,
    );
    dispatcher.start();
    await until('two requests in flight', () => hook.held.length === 2);
    // The third waits in the ready list while its lease runs down past the attempt's timeout.
    clock += 3_000;
    hook.answerAll();
    await until('two outcomes', () => succeeded.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(hook.ids).toEqual(['msg_0', 'msg_1']);
  });
});
