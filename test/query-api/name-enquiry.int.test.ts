import { IdentityIndex, type IdentitySeed } from '@hub/dev-tools/simulators/identities';
import { createNibssSimulator } from '@hub/dev-tools/simulators/nibss';
import { type RunningSimulator, startSimulator } from '@hub/dev-tools/simulators/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';

// Okra's NUBAN name verify as its document calls it, through the hub's NIBSS adapter
// (GetNIPAccount) against the NIBSS simulator: only NIBSS_URL and the credentials point it there.

const NUBAN = '0114542453';
const BVN = '22165416979';
const SEED: IdentitySeed = {
  nins: {},
  bvns: {
    [BVN]: {
      nin: null,
      firstName: 'Phoebe',
      surname: 'Buffay',
      dateOfBirth: '1989-04-16',
      msisdn: null,
      accounts: [{ nuban: NUBAN, bankCode: '058' }],
    },
  },
} as unknown as IdentitySeed;

let h: Harness;
let sim: RunningSimulator;
let bankKey: string;
let auditorToken: string;

beforeAll(async () => {
  sim = await startSimulator(createNibssSimulator(new IdentityIndex(SEED)), 0);
  h = await createHarness('nameenquiry', {}, { env: { NIBSS_URL: sim.url }, history: false });
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  bankKey = await h.organisation({ id: 'BANKA', name: 'Bank A', type: 'SERVICE_PROVIDER' });
  const auditor = await h.user('HUB', 'Auditor');
  auditorToken = ((await (await h.login(auditor.email, auditor.password)).json()) as { access_token: string })
    .access_token;
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

const verify = (body: unknown, token = bankKey) =>
  h.call('POST', '/api/v1/lookups/nuban/name-verify', { token, body });

interface Answer {
  success: boolean;
  data: { identity: { name: string; nuban: string; bvn: string | null }; nip: { responseCode: string } };
}

describe('NUBAN name verify', () => {
  it("answers the account name, the NUBAN masked as Okra's 06*****4 form and the masked BVN to a bank", async () => {
    const res = await verify({ nuban: NUBAN, bank: '058' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.success).toBe(true);
    expect(body.data.identity).toEqual({
      name: 'BUFFAY, PHOEBE',
      nuban: '01*******3',
      bank: '058',
      bvn: '*******6979',
    });
    expect(JSON.stringify(body)).not.toContain(BVN);
  });

  it('leaves the BVN out for a role that may not see it (Auditor)', async () => {
    const body = (await (await verify({ nuban: NUBAN, bank: '058' }, auditorToken)).json()) as Answer;
    expect(body.success).toBe(true);
    expect(body.data.identity.bvn).toBeNull();
  });

  it('honours the sandbox switches against the simulator', async () => {
    const failed = (await (await verify({ nuban: NUBAN, bank: '058', success: false })).json()) as Answer;
    expect(failed.success).toBe(false);
    expect(failed.data.nip.responseCode).toBe('25');
    const noBvn = (await (await verify({ nuban: NUBAN, bank: '058', no_bvn: true })).json()) as Answer;
    expect(noBvn.success).toBe(true);
    expect(noBvn.data.identity.bvn).toBeNull();
  });

  it('answers success false for an account NIBSS does not know', async () => {
    const body = (await (await verify({ nuban: '0000000001', bank: '058' })).json()) as Answer;
    expect(body.success).toBe(false);
    expect(body.data.identity.name).toBe('');
  });

  it("refuses Okra's own bank id with a 400 that says to send a CBN code", async () => {
    const res = await verify({ nuban: NUBAN, bank: '5d6fe57a4099cc4b210bbeb4' });
    expect(res.status).toBe(400);
    const text = JSON.stringify(await res.json());
    expect(text).toContain('bank');
    expect(text).toContain('CBN bank code');
  });

  it('answers 400 naming nuban for a NUBAN that is not 10 digits', async () => {
    const res = await verify({ nuban: '123', bank: '058' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('nuban');
  });
});
