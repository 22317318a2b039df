import { IdentityIndex, type IdentitySeed } from '@hub/dev-tools/simulators/identities';
import { createNimcSimulator } from '@hub/dev-tools/simulators/nimc';
import { type RunningSimulator, startSimulator } from '@hub/dev-tools/simulators/server';
import { createKafka, createProducer, createRedis, createSchemaRegistry, topicNames } from '@hub/infra';
import { EventCodec, todayInLagos, tokenise } from '@hub/schemas';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaDeadLetters } from '../../processors/src/kafka/dead-letters.ts';
import { createStateBuilder, type StateBuilder } from '../../processors/src/state-builder/builder.ts';
import { registerInputs } from '../../processors/src/state-builder/scenarios.ts';
import { identityRecordId } from '../../query-api/src/identity/records.ts';
import { createHarness, type Harness } from '../security/harness.ts';

// Okra's identity operations (seed 002) called as its document shows them, over identities the hub
// learnt from NIMC/NIBSS feeds (real Kafka, state builder → Redis, history sink → ClickHouse), with
// NIN verify's refresh asking the NIMC simulator through the hub's NIMC adapter.

const NIN_A = '70000000011';
const NIN_B = '70000000022';
const BVN_A = '22270000011';
/** NIMC has NIN A on this number; the hub has it on OLD only, until a refresh. */
const NIMC_PHONE = '2348099000011';
const OLD = '2348099000055';
const PHONE_B = '2348099000022';

const SEED: IdentitySeed = {
  nins: {
    [NIN_A]: { firstName: 'Phoebe', surname: 'Buffay', dateOfBirth: '1989-04-16', msisdn: NIMC_PHONE },
    [NIN_B]: { firstName: 'Joshua', surname: 'Nnaji', dateOfBirth: '1985-11-02', msisdn: PHONE_B },
  },
  bvns: {},
};

let h: Harness;
let sim: RunningSimulator;
let builder: StateBuilder;
let redis: Redis;
let producer: Producer;
let bankKey: string;
let otherBankKey: string;
let idA: string;
let idB: string;

interface Profile {
  id: string | null;
  nin: string | null;
  bvn: string | null;
  customer: { _id: string } | null;
  created_at: string | null;
  phone: string[];
  numbers: { msisdn: string; linked: boolean | null; lifecycle_status: string | null; checks?: number }[];
}
interface Profiles {
  status: string;
  message: string;
  data: { pagination: { totalDocs: number; page: number; limit: number }; identity: Profile[] };
}

const post = (path: string, body: unknown, token = bankKey) => h.call('POST', path, { token, body });
const json = async <T>(res: Response): Promise<T> => {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as T;
};

async function eventually<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached; last ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 400));
  }
}

const byId = async (id: string) => json<Profiles>(await post('/api/v1/lookups/id', { id }));

beforeAll(async () => {
  sim = await startSimulator(createNimcSimulator(new IdentityIndex(SEED)), 0);
  // The tests poll far more often than a client may; the limits have their own tests.
  h = await createHarness(
    'okraops',
    { rateLimits: { general: { limit: 1_000_000, windowMs: 60_000 } } },
    { env: { NIMC_URL: sim.url } },
  );
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  bankKey = await h.organisation({ id: 'BANKA', name: 'Bank A', type: 'SERVICE_PROVIDER' });
  otherBankKey = await h.organisation({ id: 'BANKB', name: 'Bank B', type: 'SERVICE_PROVIDER' });
  const nimcKey = await h.organisation({ id: 'NIMC', name: 'NIMC', type: 'IDENTITY_SOURCE' });
  const nibssKey = await h.organisation({ id: 'NIBSS', name: 'NIBSS', type: 'IDENTITY_SOURCE' });
  await h.startHistorySink();

  const { config } = h;
  const kafka = createKafka(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerInputs(codec, topics);
  await codec.register('state-change', topics.stateChanges);
  producer = createProducer(kafka);
  await producer.connect();
  redis = createRedis(config);
  builder = createStateBuilder({
    kafka,
    redis,
    codec,
    topics,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    groupId: `${config.TOPIC_PREFIX}state-builder`,
    deadLetters: new KafkaDeadLetters(producer, codec),
    stateChanges: { producer },
    log: () => {},
  });
  await builder.start();

  const feed = async (token: string, body: unknown) => {
    const res = await h.call('POST', '/api/v1/webhooks/receive', { token, body });
    expect(res.status, await res.clone().text()).toBe(202);
  };
  await feed(nimcKey, {
    source: 'NIMC',
    events: [
      { msisdn: OLD, action: 'LINK', nin: NIN_A, date: '2025-06-01' },
      { msisdn: PHONE_B, action: 'LINK', nin: NIN_B, date: '2025-06-02' },
    ],
  });
  await feed(nibssKey, {
    source: 'NIBSS',
    events: [
      {
        msisdn: OLD,
        action: 'LINK',
        bvn: BVN_A,
        holderNin: NIN_A,
        nuban: '0114542453',
        bankCode: '058',
        date: '2025-06-01',
      },
    ],
  });
  idA = identityRecordId(tokenise('NIN', NIN_A, config.TOKEN_SECRET));
  idB = identityRecordId(tokenise('NIN', NIN_B, config.TOKEN_SECRET));
  // Both identities in ClickHouse and OLD's NIN and BVN linkages in Redis.
  await eventually(
    'identities stored',
    () => byId(idB),
    (b) => b.data.identity.length === 1,
  );
  await eventually(
    'linkages applied',
    async () => json<Profiles>(await post('/api/v1/lookups/id', { id: idA })),
    (b) => b.data.identity[0]?.numbers.some((n) => n.msisdn === `+${OLD}` && n.linked === true) === true,
  );
}, 180_000);

afterAll(async () => {
  await builder?.stop();
  await producer?.disconnect();
  await redis?.quit();
  await h?.close();
  await sim?.close();
});

describe('record ids on the lookups', () => {
  it('gives every lookup of an identity the same record id, derived from its NIN token', async () => {
    const nin = await json<Profiles>(await post('/api/v1/lookups/nin', { nin: NIN_A }));
    expect(nin.data.identity.map((i) => i.id)).toEqual([idA]);
    const phone = await json<{ data: { identity: { id: string | null; type: string }[] } }>(
      await post('/api/v1/lookups/phone', { phone: `0${OLD.slice(3)}` }),
    );
    // The NIN linkage and the BVN linkage (through NIBSS's holder NIN) name the same identity.
    expect(phone.data.identity.map((i) => [i.type, i.id]).sort()).toEqual([
      ['BVN', idA],
      ['NIN', idA],
    ]);
    expect(idA).toMatch(/^[0-9a-f]{24}$/);
    expect(JSON.stringify(phone)).not.toContain(NIN_A);
  });
});

describe('Okra "Get identity by id"', () => {
  it("answers the identity's masked NIN and linked numbers in Okra's envelope with its pagination block", async () => {
    const body = await byId(idA);
    expect(body.status).toBe('success');
    expect(body.message).toBe('Identity retrieved successfully');
    expect(body.data.pagination).toMatchObject({ totalDocs: 1, page: 1, limit: 20, hasNextPage: false });
    const [identity] = body.data.identity;
    expect(identity).toMatchObject({ id: idA, nin: '*******0011', phone: [`0${OLD.slice(3)}`] });
    expect(identity?.numbers).toHaveLength(1);
    expect(identity?.created_at?.slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));
    expect(JSON.stringify(body)).not.toContain(NIN_A);
  });

  it('answers an empty list for an id the hub does not know, and 400 naming id for a malformed one', async () => {
    const none = await byId('0'.repeat(24));
    expect(none.data.identity).toEqual([]);
    expect(none.data.pagination.totalDocs).toBe(0);
    const bad = await post('/api/v1/lookups/id', { id: 'not-an-id' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('"field":"id"');
  });
});

describe('Okra "Get identity by customer"', () => {
  it("returns what the calling bank looked up for its customer, with each number's status, and nothing to another bank", async () => {
    expect((await post('/api/v1/lookups/phone', { phone: OLD, customer: 'CUST-1' })).status).toBe(200);
    const body = await eventually(
      'customer records stored',
      async () => json<Profiles>(await post('/api/v1/lookups/customer', { customer: 'CUST-1' })),
      (b) => b.data.identity.length > 0,
    );
    expect(body.data.identity).toHaveLength(1);
    const [identity] = body.data.identity;
    expect(identity).toMatchObject({ id: idA, customer: { _id: 'CUST-1' }, nin: '*******0011' });
    expect(identity?.numbers).toEqual([
      expect.objectContaining({ msisdn: `+${OLD}`, linked: true, lifecycle_status: 'ACTIVE', checks: 1 }),
    ]);
    const other = await json<Profiles>(
      await post('/api/v1/lookups/customer', { customer: 'CUST-1' }, otherBankKey),
    );
    expect(other.data.identity).toEqual([]);
  });

  it('also returns what the bank verified for its customer through TIRMS verify, single and bulk', async () => {
    const single = await post('/api/v1/phone/api/phone-numbers/verify', {
      phoneNumber: OLD,
      customer: 'CUST-T',
    });
    expect(single.status).toBe(200);
    const bulk = await post('/api/v1/phone/api/phone-numbers/verify/bulk', {
      phoneNumbers: [OLD],
      customer: 'CUST-T',
    });
    expect(bulk.status).toBe(200);
    const body = await eventually(
      'customer records stored',
      async () => json<Profiles>(await post('/api/v1/lookups/customer', { customer: 'CUST-T' })),
      (b) => (b.data.identity[0]?.numbers[0]?.checks ?? 0) >= 2,
    );
    expect(body.data.identity[0]?.numbers).toEqual([
      expect.objectContaining({ msisdn: `+${OLD}`, checks: 2 }),
    ]);
    const refused = await post('/api/v1/phone/api/phone-numbers/verify', {
      phoneNumber: OLD,
      customer: 'a b',
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain('customer');
  });

  it('answers 400 naming customer for a reference that is not one', async () => {
    const res = await post('/api/v1/lookups/customer', { customer: 'has spaces and ;' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('"field":"customer"');
  });
});

describe('Okra "Get identity by date" and "Get identity by customer date"', () => {
  const today = todayInLagos();
  it('lists the identities first seen in the range, newest first', async () => {
    const body = await json<Profiles>(await post('/api/v1/lookups/date', { from: today, to: today }));
    expect(body.data.pagination.totalDocs).toBe(2);
    expect(body.data.identity.map((i) => i.id).sort()).toEqual([idA, idB].sort());
    const paged = await json<Profiles>(
      await post('/api/v1/lookups/date', { from: today, to: today, limit: 1, page: 2 }),
    );
    expect(paged.data.identity).toHaveLength(1);
    expect(paged.data.pagination).toMatchObject({
      totalDocs: 2,
      page: 2,
      hasPrevPage: true,
      hasNextPage: false,
    });
    const past = await json<Profiles>(
      await post('/api/v1/lookups/date', { from: '2024-01-01', to: '2024-01-31' }),
    );
    expect(past.data.identity).toEqual([]);
  });

  it('answers 400 naming from when from is after to, and to when the range is over 92 days', async () => {
    const after = await post('/api/v1/lookups/date', { from: '2025-07-10', to: '2025-07-01' });
    expect(after.status).toBe(400);
    expect(JSON.stringify(await after.json())).toContain('"field":"from"');
    const long = await post('/api/v1/lookups/date', { from: '2025-01-01', to: '2025-06-30' });
    expect(long.status).toBe(400);
    expect(JSON.stringify(await long.json())).toContain('at most 92 days');
    const badDate = await post('/api/v1/lookups/date', { from: '2025-02-30', to: '2025-03-01' });
    expect(badDate.status).toBe(400);
    expect(JSON.stringify(await badDate.json())).toContain('"field":"from"');
  });

  it("keeps a customer's identities first seen in the range; customer may be a number as the document sends it", async () => {
    expect((await post('/api/v1/lookups/nin', { nin: NIN_B, customer: 1234567890 })).status).toBe(200);
    const body = await eventually(
      'customer records stored',
      async () =>
        json<Profiles>(
          await post('/api/v1/lookups/customer/date', { from: today, to: today, customer: 1234567890 }),
        ),
      (b) => b.data.identity.length > 0,
    );
    expect(body.data.identity.map((i) => i.id)).toEqual([idB]);
    const past = await json<Profiles>(
      await post('/api/v1/lookups/customer/date', {
        from: '2024-01-01',
        to: '2024-01-02',
        customer: 1234567890,
      }),
    );
    expect(past.data.identity).toEqual([]);
  });
});

describe('Okra "Verify customer"', () => {
  it("resolves the customer's identity through the BVN linked to the numbers the bank checked for them", async () => {
    const res = await post('/api/v1/lookups/customer/verify', { customer: 'CUST-1' });
    const body = await json<{
      status: string;
      message: string;
      data: Profile & { customer: string; record: string };
    }>(res);
    expect(body.message).toBe('Identity successfully retrieved');
    expect(body.data).toMatchObject({
      id: idA,
      record: idA,
      bvn: '*******0011',
      customer: 'CUST-1',
      nin: '*******0011',
    });
    expect(JSON.stringify(body)).not.toContain(BVN_A);
  });

  it('takes the BVN the bank holds, and answers 404 naming customer when the hub has none for the customer', async () => {
    const withBvn = await json<{ data: { id: string } }>(
      await post('/api/v1/lookups/customer/verify', { customer: 'CUST-9', bvn: BVN_A }),
    );
    expect(withBvn.data.id).toBe(idA);
    const none = await post('/api/v1/lookups/customer/verify', { customer: 'NOBODY' }, otherBankKey);
    expect(none.status).toBe(404);
    expect(JSON.stringify(await none.json())).toContain('"field":"customer"');
  });
});

describe('Okra bank ids', () => {
  it('answers 400 saying CBN bank codes are taken when an Okra bank id is sent to the NUBAN lookup', async () => {
    const res = await post('/api/v1/lookups/nuban', {
      nuban: '0114542453',
      bank: '5d6fe57a4099cc4b210bbeb4',
    });
    expect(res.status).toBe(400);
    const text = JSON.stringify(await res.json());
    expect(text).toContain('"field":"bank"');
    expect(text).toContain('CBN bank codes');
  });
});

interface NinVerify {
  success: boolean;
  data: {
    identity: { _id: string; nin: string; firstname: string | null; phone: string[] };
    refresh: { asked_nimc: boolean; changes: { msisdn: string; action: string }[]; published: boolean };
  };
}

describe('Okra "NIN Verify"', () => {
  it("answers from the hub's state with refresh false, without asking NIMC", async () => {
    const body = await json<NinVerify>(
      await post('/api/v1/lookups/nin/verify', { nin: NIN_A, refresh: false }),
    );
    expect(body.success).toBe(true);
    expect(body.data.identity).toMatchObject({ _id: idA, nin: '*******0011', firstname: null });
    expect(body.data.refresh).toEqual({ asked_nimc: false, changes: [], published: false });
  });

  it('lists the differences but publishes nothing with testing', async () => {
    const body = await json<NinVerify>(
      await post('/api/v1/lookups/nin/verify', { nin: NIN_A, refresh: true, testing: true }),
    );
    expect(body.data.refresh.published).toBe(false);
    expect(body.data.refresh.changes.map((c) => `${c.action} ${c.msisdn}`).sort()).toEqual([
      `LINK +${NIMC_PHONE}`,
      `UNLINK +${OLD}`,
    ]);
  });

  it("asks NIMC live with refresh true and turns each difference into a linkage event the hub's state applies", async () => {
    const body = await json<NinVerify>(
      await post('/api/v1/lookups/nin/verify', { nin: NIN_A, refresh: true }),
    );
    expect(body.data.identity.firstname).toBe('Phoebe');
    expect(body.data.refresh.published).toBe(true);
    expect(body.data.refresh.changes.map((c) => `${c.action} ${c.msisdn}`).sort()).toEqual([
      `LINK +${NIMC_PHONE}`,
      `UNLINK +${OLD}`,
    ]);
    const after = await eventually(
      'refresh applied',
      () => byId(idA),
      (b) => {
        const numbers = b.data.identity[0]?.numbers ?? [];
        return (
          numbers.some((n) => n.msisdn === `+${NIMC_PHONE}` && n.linked === true) &&
          numbers.some((n) => n.msisdn === `+${OLD}` && n.linked === false)
        );
      },
    );
    expect(after.data.identity[0]?.phone).toEqual([`0${NIMC_PHONE.slice(3)}`]);
    // Nothing left to refresh.
    const again = await json<NinVerify>(
      await post('/api/v1/lookups/nin/verify', { nin: NIN_A, refresh: true }),
    );
    expect(again.data.refresh.changes).toEqual([]);
  });

  it('answers 404 naming nin for a NIN NIMC does not know, and 400 for one that is not 11 digits', async () => {
    const unknown = await post('/api/v1/lookups/nin/verify', { nin: '70000000099', refresh: true });
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(await unknown.json())).toContain('"field":"nin"');
    const bad = await post('/api/v1/lookups/nin/verify', { nin: '123', refresh: true });
    expect(bad.status).toBe(400);
    const badRefresh = await post('/api/v1/lookups/nin/verify', { nin: NIN_A, refresh: 'yes' });
    expect(badRefresh.status).toBe(400);
    expect(JSON.stringify(await badRefresh.json())).toContain('"field":"refresh"');
  });

  it('answers 503 with Retry-After when NIMC cannot be reached', async () => {
    await sim.close();
    const res = await post('/api/v1/lookups/nin/verify', { nin: NIN_A, refresh: true });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(JSON.stringify(await res.json())).toContain('NIMC');
  });
});

describe('the OpenAPI document', () => {
  it('names the Okra operation in the summary of every Okra route, with an example answer', async () => {
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as {
      paths: Record<
        string,
        {
          post?: {
            summary?: string;
            responses: Record<string, { content?: Record<string, { example?: unknown }> }>;
          };
        }
      >;
    };
    const okra = {
      '/api/v1/lookups/id': 'Get identity by id',
      '/api/v1/lookups/customer': 'Get identity by customer',
      '/api/v1/lookups/date': 'Get identity by date',
      '/api/v1/lookups/customer/date': 'Get identity by customer date',
      '/api/v1/lookups/customer/verify': 'Verify customer',
      '/api/v1/lookups/nin/verify': 'NIN Verify',
      '/api/v1/lookups/nin': 'Get identity by NIN',
    };
    for (const [path, name] of Object.entries(okra)) {
      expect(doc.paths[path]?.post?.summary, path).toContain(`Okra "${name}"`);
    }
    for (const path of Object.keys(okra).filter((p) => p !== '/api/v1/lookups/nin')) {
      expect(
        doc.paths[path]?.post?.responses['200']?.content?.['application/json']?.example,
        path,
      ).toBeDefined();
    }
    const date = JSON.stringify(doc.paths['/api/v1/lookups/date']);
    expect(date).toContain('92 days');
  });
});
