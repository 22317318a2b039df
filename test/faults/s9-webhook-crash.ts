import { randomUUID } from 'node:crypto';
import { createProducer, createSchemaRegistry } from '@hub/infra';
import {
  newSigningSecret,
  OutboundCodec,
  outboundKeys,
  SecretBox,
  type SubscriptionEvent,
} from '@hub/outbound';
import { Webhook } from 'standardwebhooks';
import { Facts, receiver } from '../outbound/support.ts';
import { type Child, createFaultEnv, killChild, sleep, startChild, stopChild, waitReady } from './env.ts';
import type { Scenario } from './scenario.ts';

/**
 * kill -9 of the outbound delivery worker in the middle of a burst of state changes of watched
 * numbers: after a restart every change must reach the receiver at least once, correctly signed,
 * and any duplicate must carry the same webhook-id as the first delivery of that change.
 */
export const webhookCrashScenario: Scenario = {
  id: 9,
  title: 'webhook delivery: kill -9 of the delivery worker mid-burst',
  stopsServices: false,
  async run(ctx, report) {
    const env = await createFaultEnv(ctx.run, 'webhook', { WEBHOOK_RETRY_SCHEDULE: '0,1,1,2,2,5,5,10,10' });
    const numbers = ctx.quick ? 1_000 : 5_000;
    const secret = newSigningSecret();
    const seen = new Map<string, Set<string>>();
    let received = 0;
    let badSignatures = 0;
    const hook = await receiver((_n, r) => {
      received++;
      try {
        const event = new Webhook(secret).verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }) as { data: { phoneNumber: string; sequence: number } };
        const key = `${event.data.phoneNumber}:${event.data.sequence}`;
        let ids = seen.get(key);
        if (!ids) {
          ids = new Set();
          seen.set(key, ids);
        }
        ids.add(String(r.headers['webhook-id']));
      } catch {
        badSignatures++;
      }
      return { status: 200, delayMs: 2 };
    });
    const producer = createProducer(env.kafka);
    await producer.connect();
    const facts = await Facts.create(env.config, env.kafka);
    let worker: Child | null = null;
    const start = async (tag: string) => {
      const child = startChild(
        `${env.name}-${tag}`,
        'outbound/src/main.ts',
        { ...env.env, LOG_LEVEL: 'info' },
        'outbound worker running',
      );
      await waitReady(child, 120_000);
      return child;
    };
    try {
      const codec = await new OutboundCodec<SubscriptionEvent>(
        createSchemaRegistry(env.config),
        'webhook-subscription',
      ).register(env.topics.webhookSubscriptions);
      const now = Date.now();
      const subscription = {
        id: `whsub_${randomUUID().slice(0, 8)}`,
        organisation: 'FAULTBANK',
        url: hook.url,
        events: ['CHURNED'],
        description: null,
        secrets: [
          {
            ciphertext: new SecretBox(env.config.WEBHOOK_SECRET_KEY).seal(secret),
            createdAt: now,
            expiresAt: null,
          },
        ],
        active: true,
        createdAt: now,
        createdBy: 'system:faults',
        deletedAt: null,
        disabledAt: null,
        disabledReason: null,
      };
      await producer.send({
        topic: env.topics.webhookSubscriptions,
        acks: -1,
        messages: [
          {
            key: subscription.id,
            value: codec.encode({
              eventId: randomUUID(),
              source: 'API',
              type: 'REGISTERED',
              actor: 'system:faults',
              subscription,
              occurredAt: now,
              receivedAt: now,
            }),
          },
        ],
      });
      const msisdns = Array.from({ length: numbers }, (_, i) => `23480${String(10_000_000 + i).slice(-8)}`);
      for (const m of msisdns) await facts.verified('FAULTBANK', m);
      report.step(`registered one subscription; ${numbers} numbers verified by its organisation`);
      worker = await start('outbound');
      const keys = outboundKeys(env.config.REDIS_KEY_PREFIX);
      for (let i = 0; i < 600; i++) {
        const watched = await env.redis.exists(...msisdns.slice(-20).map((m) => keys.watch(m)));
        if (watched === 20) break;
        await sleep(100);
      }
      report.step('watch lists built from the verifications topic');

      const burst = (async () => {
        for (let i = 0; i < msisdns.length; i += 100)
          await facts.publish(msisdns.slice(i, i + 100).map((m) => facts.change(m, 'CHURNED')));
      })();
      const killAt = Math.floor(numbers * 0.4);
      while (seen.size < killAt) await sleep(5);
      await killChild(worker);
      report.step(`kill -9 of the delivery worker after ${seen.size} of ${numbers} changes were delivered`);
      await burst;
      await sleep(500);
      const restarted = Date.now();
      worker = await start('outbound-restarted');
      report.step('delivery worker restarted');
      const deadline = Date.now() + (ctx.quick ? 60_000 : 180_000);
      while (seen.size < numbers && Date.now() < deadline) await sleep(100);
      await sleep(1_000);
      const missing = msisdns.filter((m) => !seen.has(`${m}:2`));
      const splitIds = [...seen.values()].filter((ids) => ids.size > 1).length;
      const duplicates = received - seen.size - badSignatures;
      report.fact(
        `${received} deliveries for ${seen.size} changes: ${duplicates} duplicates after the crash`,
      );
      report.fact(`recovered in ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`);
      report.check(
        missing.length === 0,
        `every one of ${numbers} changes was delivered at least once`,
        `${missing.length} changes never delivered, e.g. ${missing.slice(0, 3).join(', ')}`,
      );
      report.check(
        splitIds === 0,
        'every duplicate carried the webhook-id of its first delivery',
        `${splitIds} changes arrived under more than one webhook-id`,
      );
      report.check(
        badSignatures === 0,
        'every delivery verified with standardwebhooks',
        `${badSignatures} deliveries failed signature verification`,
      );
    } finally {
      if (worker) await stopChild(worker).catch(() => undefined);
      await facts.close();
      await producer.disconnect();
      await hook.close();
      await env.close({ drop: true });
    }
  },
};
