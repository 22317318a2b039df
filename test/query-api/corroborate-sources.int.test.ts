import { randomUUID } from 'node:crypto';
import { Faults } from '@hub/dev-tools/simulators/faults';
import { IdentityIndex, type IdentitySeed } from '@hub/dev-tools/simulators/identities';
import { createNibssSimulator } from '@hub/dev-tools/simulators/nibss';
import { createNimcSimulator } from '@hub/dev-tools/simulators/nimc';
import { type RunningSimulator, startSimulator } from '@hub/dev-tools/simulators/server';
import { NibssClient, NimcClient } from '@hub/identity-sources';
import type { Config } from '@hub/infra';
import { createKafka, createSchemaRegistry, topicNames } from '@hub/infra';
import { staticApiKeyAuthenticator } from '@hub/ingest';
import { type BvnLinkageEvent, EventCodec, mask, type NinLinkageEvent, tokenise } from '@hub/schemas';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStateBuilder, runStateBuilder } from '../../processors/src/state-builder/runtime.ts';
import { waitForCatchUp } from '../../processors/src/state-builder/test-env.ts';
import { createApiApp } from '../../query-api/src/app.ts';
import { type ApiResources, createApiContext } from '../../query-api/src/bootstrap.ts';
import { createTestTopics, testPrincipal as principal, testConfig } from '../support/stack.ts';

const KEYS = {
  hub: { key: 'hub-corroborate-key', principal: principal('NCC', 'HUB') },
  bank: { key: 'bank-corroborate-key', principal: principal('Bank A', 'SERVICE_PROVIDER') },
};

/** Numbers of the stories, and the raw identifiers the sources hold for them. */
const AGREE = '2348031110001';
const DISAGREE = '2348031110002';
const UNKNOWN_TO_HUB = '2348031110003';
const NIN = {
  a: '10000000011',
  oldOwner: '10000000022',
  newOwner: '10000000033',
  stranger: '10000000044',
  c: '10000000055',
};
const BVN = { a: '22200000011', b: '22200000022' };

const SEED: IdentitySeed = {
  nins: {
    [NIN.a]: { firstName: 'Ngozi', surname: 'Eze', dateOfBirth: '1990-04-02', msisdn: AGREE },
    // NIMC still links the previous owner's NIN to the recycled number; the hub cleared it.
    [NIN.oldOwner]: { firstName: 'Musa', surname: 'Bello', dateOfBirth: '1970-01-09', msisdn: DISAGREE },
    [NIN.newOwner]: { firstName: 'Amaka', surname: 'Obi', dateOfBirth: '1995-06-21', msisdn: DISAGREE },
    [NIN.stranger]: { firstName: 'Segun', surname: 'Lawal', dateOfBirth: '1980-02-14', msisdn: null },
    [NIN.c]: { firstName: 'Efe', surname: 'Garba', dateOfBirth: '1988-08-08', msisdn: UNKNOWN_TO_HUB },
  },
  bvns: {
    [BVN.a]: {
      nin: NIN.a,
      firstName: 'Ngozi',
      surname: 'Eze',
      dateOfBirth: '1990-04-02',
      msisdn: AGREE,
      accounts: [{ nuban: '0123456789', bankCode: '058' }],
    },
    // NIBSS says this BVN belongs to someone other than the holder the hub recorded.
    [BVN.b]: {
      nin: NIN.stranger,
      firstName: 'Segun',
      surname: 'Lawal',
      dateOfBirth: '1980-02-14',
      msisdn: DISAGREE,
      accounts: [],
    },
  },
};

let config: Config;
let resources: ApiResources;
let builder: RunningStateBuilder;
let app: ReturnType<typeof createApiApp>;
let nimcSim: RunningSimulator;
let nibssSim: RunningSimulator;
const nimcFaults = new Faults();
const nibssFaults = new Faults();

const DAY = 86_400_000;
const T = Date.UTC(2024, 0, 10, 9);

function ninEvent(msisdn: string, nin: string, action: 'LINK' | 'UNLINK', at: number): NinLinkageEvent {
  return {
    eventId: randomUUID(),
    source: 'NIMC',
    occurredAt: at,
    receivedAt: at,
    msisdn,
    action,
    ninToken: tokenise('NIN', nin, config.TOKEN_SECRET),
    ninMasked: mask(nin),
    linkDate: new Date(at).toISOString().slice(0, 10),
  };
}

function bvnEvent(msisdn: string, bvn: string, holderNin: string, at: number): BvnLinkageEvent {
  return {
    eventId: randomUUID(),
    source: 'NIBSS',
    occurredAt: at,
    receivedAt: at,
    msisdn,
    action: 'LINK',
    bvnToken: tokenise('BVN', bvn, config.TOKEN_SECRET),
    bvnMasked: mask(bvn),
    holderNinToken: tokenise('NIN', holderNin, config.TOKEN_SECRET),
    nubanToken: null,
    nubanMasked: null,
    bankCode: null,
    linkDate: new Date(at).toISOString().slice(0, 10),
  };
}

beforeAll(async () => {
  config = testConfig('corroborate', { KAFKA_PARTITIONS: '2' });
  const kafka = await createTestTopics(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const groupId = `${config.TOPIC_PREFIX}state-builder`;
  builder = await runStateBuilder(config, { groupId, publishStateChanges: false, log: () => {} });

  const codec = new EventCodec(createSchemaRegistry(config));
  await codec.register('nin-linkage', topics.ninLinkages);
  await codec.register('bvn-linkage', topics.bvnLinkages);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const nins = [
    ninEvent(AGREE, NIN.a, 'LINK', T),
    ninEvent(DISAGREE, NIN.oldOwner, 'LINK', T),
    ninEvent(DISAGREE, NIN.oldOwner, 'UNLINK', T + 30 * DAY),
    ninEvent(DISAGREE, NIN.newOwner, 'LINK', T + 40 * DAY),
  ];
  const bvns = [
    bvnEvent(AGREE, BVN.a, NIN.a, T + DAY),
    bvnEvent(DISAGREE, BVN.b, NIN.newOwner, T + 41 * DAY),
  ];
  await producer.send({
    topic: topics.ninLinkages,
    acks: -1,
    messages: nins.map((e) => ({ key: e.msisdn, value: codec.encode('nin-linkage', e) })),
  });
  await producer.send({
    topic: topics.bvnLinkages,
    acks: -1,
    messages: bvns.map((e) => ({ key: e.msisdn, value: codec.encode('bvn-linkage', e) })),
  });
  await producer.disconnect();
  const admin = createKafka(config).admin();
  await admin.connect();
  await waitForCatchUp(admin, topics, groupId);
  await admin.disconnect();

  const index = new IdentityIndex(SEED);
  nimcSim = await startSimulator(createNimcSimulator(index, nimcFaults), 0);
  nibssSim = await startSimulator(createNibssSimulator(index, nibssFaults), 0);
  resources = await createApiContext(config, {
    authenticate: staticApiKeyAuthenticator(Object.values(KEYS)),
  });
  const fast = { timeoutMs: 300, retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 20 } };
  resources.ctx.identitySources = {
    nimc: new NimcClient(nimcSim.url, fast),
    nibss: new NibssClient(nibssSim.url, {
      ...fast,
      credentials: { userName: 'test', password: 'test' },
      breaker: { failureThreshold: 2, openMs: 60_000 },
    }),
  };
  app = createApiApp(resources.ctx, resources.probes);
});

afterAll(async () => {
  await resources?.close();
  await builder?.stop();
  await nimcSim?.close();
  await nibssSim?.close();
});

afterEach(() => {
  nimcFaults.reset();
  nibssFaults.reset();
});

interface VerdictJson {
  status: string;
  latency_ms: number;
  linked?: string[];
  differences?: Record<string, string>[];
  failure?: string;
  reason?: string;
}
interface CorroborationJson {
  msisdn: string;
  result: string;
  code?: string;
  errors?: { field: string }[];
  hub: { known: boolean; active_nin_linkages: string[]; active_bvn_linkages: string[] };
  sources: { nimc: VerdictJson; nibss: VerdictJson };
  cross_check: { status: string };
}

async function corroborate(msisdn: string, key = KEYS.hub.key) {
  const res = await app.request(`/api/v1/identity/corroborate?msisdn=${encodeURIComponent(msisdn)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as CorroborationJson };
}

const RAW_IDS = [...Object.values(NIN), ...Object.values(BVN)];

describe('GET /api/v1/identity/corroborate', () => {
  it('answers agrees when NIMC and NIBSS link the same identities as the hub, showing only masks', async () => {
    const { status, body, text } = await corroborate('08031110001');
    expect(status).toBe(200);
    expect(body.msisdn).toBe(`+${AGREE}`);
    expect(body.result).toBe('agrees');
    expect(body.hub).toMatchObject({
      known: true,
      active_nin_linkages: [mask(NIN.a)],
      active_bvn_linkages: [mask(BVN.a)],
    });
    expect(body.sources.nimc).toMatchObject({ status: 'agrees', linked: [mask(NIN.a)] });
    expect(body.sources.nibss).toMatchObject({ status: 'agrees', linked: [mask(BVN.a)] });
    expect(body.cross_check.status).toBe('agrees');
    for (const raw of RAW_IDS) expect(text).not.toContain(raw);
  });

  it('answers disagrees with what differs: a NIN the hub cleared, a BVN held by another NIN', async () => {
    const { status, body, text } = await corroborate(DISAGREE);
    expect(status).toBe(200);
    expect(body.result).toBe('disagrees');
    expect(body.sources.nimc.status).toBe('disagrees');
    expect(body.sources.nimc.differences).toEqual([
      expect.objectContaining({
        identifier: 'NIN',
        masked: mask(NIN.oldOwner),
        hub: 'cleared',
        source: 'linked',
      }),
    ]);
    expect(body.sources.nibss.status).toBe('disagrees');
    expect(body.sources.nibss.differences).toEqual([
      expect.objectContaining({
        identifier: 'BVN_HOLDER_NIN',
        masked: mask(BVN.b),
        hub: 'active',
        source: 'differs',
      }),
    ]);
    expect(body.cross_check.status).toBe('disagrees');
    for (const raw of RAW_IDS) expect(text).not.toContain(raw);
  });

  it('reports a linkage the hub has never seen', async () => {
    const { body } = await corroborate(UNKNOWN_TO_HUB);
    expect(body.hub.known).toBe(false);
    expect(body.sources.nimc.differences).toEqual([
      expect.objectContaining({ masked: mask(NIN.c), hub: 'absent', source: 'linked' }),
    ]);
    expect(body.sources.nibss.status).toBe('agrees');
  });

  it('answers 200 with a partial result naming the source that is down and why', async () => {
    nibssFaults.update({ down: true });
    const { status, body } = await corroborate(AGREE);
    expect(status).toBe(200);
    expect(body.result).toBe('partial');
    expect(body.sources.nimc.status).toBe('agrees');
    expect(body.sources.nibss).toMatchObject({ status: 'unavailable', failure: 'http' });
    expect(body.sources.nibss.reason).toContain('503');
    expect(body.cross_check.status).toBe('unavailable');
    // Two attempts (one retry) reached the sick source.
    expect(nibssFaults.requests).toBe(2);
  });

  it('names a timeout when a source is too slow, and stops calling it once its circuit opens', async () => {
    nibssFaults.update({ latencyMs: 600 });
    const slow = await corroborate(AGREE);
    expect(slow.body.sources.nibss).toMatchObject({ status: 'unavailable', failure: 'timeout' });
    expect(slow.body.sources.nimc.status).toBe('agrees');
    // The earlier outage and this timeout are two failed calls in a row: the circuit is open now.
    const before = nibssFaults.requests;
    const open = await corroborate(AGREE);
    expect(open.body.sources.nibss).toMatchObject({ status: 'unavailable', failure: 'circuit-open' });
    expect(open.body.sources.nibss.latency_ms).toBeLessThan(50);
    expect(nibssFaults.requests).toBe(before);
  });

  it('answers unavailable (still 200) when neither source answers', async () => {
    nimcFaults.update({ down: true });
    const { status, body } = await corroborate(AGREE);
    expect(status).toBe(200);
    expect(body.result).toBe('unavailable');
  });

  it('rejects a bad or missing msisdn with a 400 naming the field', async () => {
    const bad = await corroborate('12345');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', errors: [{ field: 'msisdn' }] });
    const res = await app.request('/api/v1/identity/corroborate', {
      headers: { authorization: `Bearer ${KEYS.hub.key}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toBe('msisdn: is required');
  });

  it('is for admins only', async () => {
    expect((await corroborate(AGREE, KEYS.bank.key)).status).toBe(403);
    expect((await app.request(`/api/v1/identity/corroborate?msisdn=${AGREE}`)).status).toBe(401);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(doc.paths['/api/v1/identity/corroborate']).toBeDefined();
  });
});
