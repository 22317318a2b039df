import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type RunningDelinkWorker, runDelinkWorker } from '@hub/delink';
import { DelinkDesk } from '@hub/dev-tools/simulators/delink';
import { Faults } from '@hub/dev-tools/simulators/faults';
import { IdentityIndex, type IdentitySeed } from '@hub/dev-tools/simulators/identities';
import { createNibssSimulator } from '@hub/dev-tools/simulators/nibss';
import { createNimcSimulator } from '@hub/dev-tools/simulators/nimc';
import { type RunningSimulator, startSimulator } from '@hub/dev-tools/simulators/server';
import { NibssClient, NimcClient } from '@hub/identity-sources';
import { createKafka, createLogger, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { EventCodec, mask, tokenise } from '@hub/schemas';
import type { Producer } from 'kafkajs';
import { type RunningStateBuilder, runStateBuilder } from '../../processors/src/state-builder/runtime.ts';
import { registerInputs } from '../../processors/src/state-builder/scenarios.ts';
import { createHarness, type Harness } from '../security/harness.ts';

/** One previous owner's identifiers on a recycled number, as the sources hold them raw. */
export interface Story {
  msisdn: string;
  nin: string;
  bvn: string;
  /** The operator that reports the churn (and serves the number). */
  operator: string;
  /** null: never churned or reassigned (not recycled). */
  churned: string | null;
}

const FAST = {
  timeoutMs: 1000,
  retry: { attempts: 2, initialDelayMs: 20, maxDelayMs: 50 },
  breaker: { failureThreshold: 50, openMs: 1000 },
};

export interface DelinkHarness {
  h: Harness;
  url: string;
  /** The simulators' base URLs and fault controls (latency, failures). */
  nimcUrl: string;
  nibssUrl: string;
  nimcFaults: Faults;
  nibssFaults: Faults;
  nimcDesk: DelinkDesk;
  nibssDesk: DelinkDesk;
  keys: { operator: string; otherOperator: string; nimc: string; nibss: string };
  tokens: { maker: string; checker: string; auditor: string };
  /** Publishes the story's linkages (2019) and its churn, as the sources and operator would. */
  seed(stories: Story[]): Promise<void>;
  startWorker(): Promise<RunningDelinkWorker>;
  stopWorker(): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field in the tests
  call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }>;
  waitFor<T>(
    what: string,
    probe: () => Promise<T | null | undefined | false>,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

/**
 * The whole workflow against real Kafka, Redis and ClickHouse: the API on an ephemeral port (the
 * simulators post their UNLINK confirmations to its identity-feed webhook), the state builder, the
 * history sink, the delink worker, and NIMC/NIBSS simulators seeded with the stories' identities.
 */
export async function createDelinkHarness(name: string, stories: Story[]): Promise<DelinkHarness> {
  const h = await createHarness(name);
  const limits = { generalPerMinute: 100_000, verifyPerMinute: 100_000 };
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB', ...limits });
  const operator = await h.organisation({
    id: 'MTN-NG',
    name: 'MTN',
    type: 'OPERATOR',
    operatorCode: 'MTN',
    ...limits,
  });
  const otherOperator = await h.organisation({
    id: 'AIRTEL-NG',
    name: 'Airtel',
    type: 'OPERATOR',
    operatorCode: 'AIRTEL',
    ...limits,
  });
  const nimcKey = await h.organisation({ id: 'NIMC', name: 'NIMC', type: 'IDENTITY_SOURCE', ...limits });
  const nibssKey = await h.organisation({ id: 'NIBSS', name: 'NIBSS', type: 'IDENTITY_SOURCE', ...limits });
  const token = async (role: 'Admin' | 'Auditor') => {
    const u = await h.user('HUB', role);
    const res = await h.login(u.email, u.password);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const tokens = {
    maker: await token('Admin'),
    checker: await token('Admin'),
    auditor: await token('Auditor'),
  };

  const server = await new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const s = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            s.close(() => done());
          }),
      });
    });
  });

  const seed: IdentitySeed = { nins: {}, bvns: {} };
  for (const s of stories) {
    seed.nins[s.nin] = { firstName: 'Old', surname: 'Owner', dateOfBirth: '1970-01-01', msisdn: s.msisdn };
    seed.bvns[s.bvn] = {
      nin: s.nin,
      firstName: 'Old',
      surname: 'Owner',
      dateOfBirth: '1970-01-01',
      msisdn: s.msisdn,
      accounts: [],
    };
  }
  const index = new IdentityIndex(seed);
  const nimcDesk = new DelinkDesk('NIMC', { url: server.url, apiKey: nimcKey }, { confirmDelayMs: 20 });
  const nibssDesk = new DelinkDesk('NIBSS', { url: server.url, apiKey: nibssKey }, { confirmDelayMs: 20 });
  const nimcFaults = new Faults();
  const nibssFaults = new Faults();
  const nimcSim: RunningSimulator = await startSimulator(createNimcSimulator(index, nimcFaults, nimcDesk), 0);
  const nibssSim: RunningSimulator = await startSimulator(
    createNibssSimulator(index, nibssFaults, undefined, nibssDesk),
    0,
  );

  const config = h.config;
  const kafka = createKafka(config);
  const producer: Producer = createProducer(kafka);
  await producer.connect();
  const codec = new EventCodec(createSchemaRegistry(config));
  const topics = topicNames(config.TOPIC_PREFIX);
  await registerInputs(codec, topics);
  const builder: RunningStateBuilder = await runStateBuilder(config, {
    groupId: `${config.TOPIC_PREFIX}state-builder`,
    publishStateChanges: true,
    log: () => {},
  });
  await h.startHistorySink();

  let worker: RunningDelinkWorker | null = null;
  const sources = {
    nimc: new NimcClient(nimcSim.url, FAST),
    nibss: new NibssClient(nibssSim.url, { ...FAST, credentials: { userName: 'test', password: 'test' } }),
  };

  const d: DelinkHarness = {
    h,
    url: server.url,
    nimcUrl: nimcSim.url,
    nibssUrl: nibssSim.url,
    nimcFaults,
    nibssFaults,
    nimcDesk,
    nibssDesk,
    keys: { operator, otherOperator, nimc: nimcKey, nibss: nibssKey },
    tokens,
    async seed(list) {
      const secret = config.TOKEN_SECRET;
      const at = Date.UTC(2019, 0, 10);
      const now = Date.now();
      for (const s of list) {
        const ninToken = tokenise('NIN', s.nin, secret);
        await producer.send({
          topic: topics.ninLinkages,
          messages: [
            {
              key: s.msisdn,
              value: codec.encode('nin-linkage', {
                eventId: `seed-nin-${s.msisdn}`,
                source: 'GENERATOR',
                msisdn: s.msisdn,
                action: 'LINK',
                ninToken,
                ninMasked: mask(s.nin),
                linkDate: '2019-01-10',
                occurredAt: at,
                receivedAt: now,
              }),
            },
          ],
        });
        await producer.send({
          topic: topics.bvnLinkages,
          messages: [
            {
              key: s.msisdn,
              value: codec.encode('bvn-linkage', {
                eventId: `seed-bvn-${s.msisdn}`,
                source: 'GENERATOR',
                msisdn: s.msisdn,
                action: 'LINK',
                bvnToken: tokenise('BVN', s.bvn, secret),
                bvnMasked: mask(s.bvn),
                holderNinToken: ninToken,
                nubanToken: null,
                nubanMasked: null,
                bankCode: null,
                linkDate: '2019-02-01',
                occurredAt: at,
                receivedAt: now,
              }),
            },
          ],
        });
        await producer.send({
          topic: topics.statusUpdates,
          messages: [
            {
              key: s.msisdn,
              value: codec.encode('status-update', {
                eventId: `seed-status-${s.msisdn}`,
                source: 'GENERATOR',
                operator: s.operator,
                msisdn: s.msisdn,
                status: s.churned ? 'CHURNED' : 'NORMAL',
                occurrenceDate: s.churned ?? '2019-03-01',
                reassignmentDate: null,
                remarks: null,
                batchId: null,
                occurredAt: Date.parse(`${s.churned ?? '2019-03-01'}T00:00:00Z`),
                receivedAt: now,
              }),
            },
          ],
        });
      }
      // Every number's state is in Redis once its status is.
      await d.waitFor('seeded state', async () => {
        const readings = await h.resources.ctx.readState(list.map((s) => s.msisdn));
        return readings.every((r) => r.view?.telecomStatus && r.view.activeBvnLinkages > 0) || null;
      });
    },
    async startWorker() {
      worker = await runDelinkWorker(config, {
        sources,
        log: createLogger({ LOG_LEVEL: 'warn' }, 'delink-test'),
        sweepMs: 200,
      });
      return worker;
    },
    async stopWorker() {
      await worker?.stop();
      worker = null;
    },
    async call(method, path, tok, body) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tok}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async waitFor(what, probe, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await probe();
        if (v) return v as never;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await d.stopWorker();
      nimcDesk.close();
      nibssDesk.close();
      await builder.stop();
      await producer.disconnect();
      await server.close();
      await nimcSim.close();
      await nibssSim.close();
      await h.close();
    },
  };
  return d;
}
