import { DelinkDesk } from '@hub/dev-tools/simulators/delink';
import { Faults } from '@hub/dev-tools/simulators/faults';
import { IdentityIndex } from '@hub/dev-tools/simulators/identities';
import { createNibssSimulator } from '@hub/dev-tools/simulators/nibss';
import { createNimcSimulator } from '@hub/dev-tools/simulators/nimc';
import { type RunningSimulator, startSimulator } from '@hub/dev-tools/simulators/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from './http.ts';
import { NibssClient } from './nibss-client.ts';
import { NimcClient } from './nimc-client.ts';

const PHONE = '2348031234567';
const index = () =>
  new IdentityIndex({
    nins: { '12345678901': { firstName: 'A', surname: 'B', dateOfBirth: '1970-01-01', msisdn: PHONE } },
    bvns: {
      '22212345678': {
        nin: '12345678901',
        firstName: 'A',
        surname: 'B',
        dateOfBirth: '1970-01-01',
        msisdn: PHONE,
        accounts: [],
      },
    },
  });
const order = (masked: string, key: string) => ({
  msisdn: PHONE,
  masked,
  linkDate: '2019-01-10',
  reason: 'recycled',
  idempotencyKey: key,
});
const fast = { timeoutMs: 500, retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } };

let nimcSim: RunningSimulator;
let nibssSim: RunningSimulator;
const nimcDesk = new DelinkDesk('NIMC', null);
const nibssDesk = new DelinkDesk('NIBSS', null);
const nimcFaults = new Faults();

beforeAll(async () => {
  const shared = index();
  nimcSim = await startSimulator(createNimcSimulator(shared, nimcFaults, nimcDesk), 0);
  nibssSim = await startSimulator(createNibssSimulator(shared, new Faults(), undefined, nibssDesk), 0);
});
afterAll(async () => {
  nimcDesk.close();
  nibssDesk.close();
  await nimcSim?.close();
  await nibssSim?.close();
});

describe('delink through the client adapters', () => {
  it('NIMC accepts once per idempotency key: a repeated call gets the first answer without a second unlink', async () => {
    const client = new NimcClient(nimcSim.url, fast);
    const first = await client.unlinkNin(order('*******8901', 'r1:1:nin:a'));
    expect(first).toEqual({ outcome: 'ACCEPTED', reference: 'NIMC-r1:1:nin:a' });
    expect(await client.unlinkNin(order('*******8901', 'r1:1:nin:a'))).toEqual(first);
    expect(nimcDesk.snapshot().keys['r1:1:nin:a']).toEqual({ calls: 2, effects: 1, status: 202 });
    // The NIN is gone at the source: a new key for it is refused with NIMC's reason.
    expect(await client.unlinkNin(order('*******8901', 'r2:1:nin:a'))).toEqual({
      outcome: 'REFUSED',
      reason: `NIMC: no such NIN is linked to ${PHONE}`,
    });
  });

  it('retries a 503 with the same key, so the source acts once', async () => {
    nimcFaults.update({ failNext: 1 });
    const client = new NimcClient(nimcSim.url, fast);
    const answer = await client.unlinkNin(order('*******0000', 'r3:1:nin:b'));
    // The simulated outage ate the first attempt; the retry reached the desk once.
    expect(answer.outcome).toBe('REFUSED');
    expect(nimcFaults.failed).toBe(1);
    expect(nimcDesk.snapshot().keys['r3:1:nin:b']?.calls).toBe(1);
  });

  it('NIBSS refuses when told to, with its reason, and accepts the next attempt', async () => {
    const client = new NibssClient(nibssSim.url, {
      ...fast,
      credentials: { userName: 'test', password: 'test' },
    });
    nibssDesk.settings.refuseNext = 1;
    expect(await client.unlinkBvn(order('*******5678', 'r4:1:bvn:c'))).toEqual({
      outcome: 'REFUSED',
      reason: 'NIBSS (57): linkage is under a legal hold',
    });
    expect(await client.unlinkBvn(order('*******5678', 'r4:2:bvn:c'))).toMatchObject({ outcome: 'ACCEPTED' });
  });

  it('NIBSS with the wrong credentials is an error, not a refusal', async () => {
    const client = new NibssClient(nibssSim.url, { ...fast, credentials: { userName: 'x', password: 'y' } });
    await expect(client.unlinkBvn(order('*******5678', 'r5:1:bvn:c'))).rejects.toBeInstanceOf(SourceError);
  });
});
