import { Faults } from '@hub/dev-tools/simulators/faults';
import { IdentityIndex, type IdentitySeed } from '@hub/dev-tools/simulators/identities';
import { createNibssSimulator } from '@hub/dev-tools/simulators/nibss';
import { createNimcSimulator } from '@hub/dev-tools/simulators/nimc';
import { type RunningSimulator, startSimulator } from '@hub/dev-tools/simulators/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SourceError } from './http.ts';

const SIMULATOR_CREDENTIALS = { userName: 'test', password: 'test' };

import { NibssClient } from './nibss-client.ts';
import { NimcClient } from './nimc-client.ts';

const SEED: IdentitySeed = {
  nins: {
    '12345678901': { firstName: 'Ngozi', surname: 'Eze', dateOfBirth: '1990-04-02', msisdn: '2348031234567' },
    '22345678902': {
      firstName: 'Musa',
      surname: 'Bello',
      dateOfBirth: '1985-11-30',
      msisdn: '2348031234567',
    },
  },
  bvns: {
    '22212345678': {
      nin: '12345678901',
      firstName: 'Ngozi',
      surname: 'Eze',
      dateOfBirth: '1990-04-02',
      msisdn: '2348031234567',
      accounts: [{ nuban: '1018996198', bankCode: '058' }],
    },
  },
};

const nimcFaults = new Faults();
const nibssFaults = new Faults();
let nimcSim: RunningSimulator;
let nibssSim: RunningSimulator;
const fast = { timeoutMs: 300, retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } };

beforeAll(async () => {
  const index = new IdentityIndex(SEED);
  nimcSim = await startSimulator(createNimcSimulator(index, nimcFaults), 0);
  nibssSim = await startSimulator(createNibssSimulator(index, nibssFaults), 0);
});
afterAll(async () => {
  await nimcSim?.close();
  await nibssSim?.close();
});
afterEach(() => {
  nimcFaults.reset();
  nibssFaults.reset();
});

describe('NIMC client against the simulator', () => {
  it('verifies a NIN and answers null for an unknown one', async () => {
    const client = new NimcClient(nimcSim.url, fast);
    expect(await client.verifyNin('12345678901')).toEqual({
      nin: '12345678901',
      firstName: 'Ngozi',
      surname: 'Eze',
      dateOfBirth: '1990-04-02',
      phoneNumber: '2348031234567',
    });
    expect(await client.verifyNin('99999999999')).toBeNull();
  });

  it('lists the NINs linked to a phone, in any accepted number form', async () => {
    const client = new NimcClient(nimcSim.url, fast);
    expect((await client.ninsOfPhone('08031234567')).map((p) => p.nin).sort()).toEqual([
      '12345678901',
      '22345678902',
    ]);
    expect(await client.ninsOfPhone('2348099999999')).toEqual([]);
  });

  it('retries a failed attempt with backoff and returns the answer of the retry', async () => {
    const retries: number[] = [];
    const client = new NimcClient(nimcSim.url, { ...fast, onRetry: (attempt) => retries.push(attempt) });
    nimcFaults.update({ failNext: 2 });
    expect(await client.verifyNin('12345678901')).not.toBeNull();
    expect(retries).toEqual([1, 2]);
    expect(nimcFaults.requests).toBe(3);
    expect(client.http.breaker.state).toBe('closed');
  });

  it('does not retry an answer that is final (404)', async () => {
    const client = new NimcClient(nimcSim.url, fast);
    await client.verifyNin('99999999999');
    expect(nimcFaults.requests).toBe(1);
  });

  it('times out a slow source on every attempt and reports a timeout', async () => {
    const client = new NimcClient(nimcSim.url, { ...fast, timeoutMs: 50 });
    nimcFaults.update({ latencyMs: 200 });
    const err = await client.verifyNin('12345678901').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).failure).toBe('timeout');
    expect(nimcFaults.requests).toBe(3);
  });

  it('opens the circuit after repeated failed calls and stops sending requests', async () => {
    const client = new NimcClient(nimcSim.url, { ...fast, breaker: { failureThreshold: 2, openMs: 60_000 } });
    nimcFaults.update({ down: true });
    for (let i = 0; i < 2; i++) {
      const err = (await client.ninsOfPhone('2348031234567').catch((e: unknown) => e)) as SourceError;
      expect(err.failure).toBe('http');
      expect(err.status).toBe(503);
    }
    expect(nimcFaults.requests).toBe(6);
    expect(client.http.breaker.state).toBe('open');
    const err = (await client.ninsOfPhone('2348031234567').catch((e: unknown) => e)) as SourceError;
    expect(err.failure).toBe('circuit-open');
    expect(nimcFaults.requests).toBe(6);
  });

  it('half-opens after the wait and closes again when the source has recovered', async () => {
    let now = 0;
    const client = new NimcClient(nimcSim.url, {
      ...fast,
      retry: { attempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
      breaker: { failureThreshold: 1, openMs: 1000 },
      now: () => now,
    });
    nimcFaults.update({ down: true });
    await expect(client.verifyNin('12345678901')).rejects.toBeInstanceOf(SourceError);
    expect(client.http.breaker.state).toBe('open');
    nimcFaults.update({ down: false });
    now += 1000;
    expect(client.http.breaker.state).toBe('half-open');
    expect(await client.verifyNin('12345678901')).not.toBeNull();
    expect(client.http.breaker.state).toBe('closed');
  });

  it('reports an unreachable source as a network failure', async () => {
    const closed = await startSimulator(createNimcSimulator(new IdentityIndex(SEED)), 0);
    await closed.close();
    const client = new NimcClient(closed.url, {
      ...fast,
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
    });
    const err = (await client.verifyNin('12345678901').catch((e: unknown) => e)) as SourceError;
    expect(err.failure).toBe('network');
  });
});

describe('NIBSS client against the simulator', () => {
  it('answers a NIP name enquiry as the document shapes it', async () => {
    const client = new NibssClient(nibssSim.url, { ...fast, credentials: SIMULATOR_CREDENTIALS });
    expect(await client.nameEnquiry('1018996198', '058')).toEqual({
      bankCode: '058',
      accountName: 'EZE, NGOZI',
      transactionReference: '',
      bvn: '22212345678',
      kycLevel: '3',
      responseMessage: 'Approved or completed successfully',
      accountNumber: '1018996198',
      responseCode: '00',
    });
  });

  it('answers 25 for an unknown account, 07 for a malformed one and 63 for bad credentials', async () => {
    const client = new NibssClient(nibssSim.url, { ...fast, credentials: SIMULATOR_CREDENTIALS });
    expect((await client.nameEnquiry('1018996199', '058')).responseCode).toBe('25');
    expect((await client.nameEnquiry('10189', '058')).responseCode).toBe('07');
    const wrong = new NibssClient(nibssSim.url, { ...fast, credentials: { userName: 'x', password: 'y' } });
    expect((await wrong.nameEnquiry('1018996198', '058')).responseCode).toBe('63');
  });

  it('looks up a BVN with its holder NIN, and the BVNs of a phone', async () => {
    const client = new NibssClient(nibssSim.url, { ...fast, credentials: SIMULATOR_CREDENTIALS });
    expect(await client.lookupBvn('22212345678')).toMatchObject({
      nin: '12345678901',
      phoneNumber: '2348031234567',
    });
    expect(await client.lookupBvn('22212345679')).toBeNull();
    expect((await client.bvnsOfPhone('+2348031234567')).map((b) => b.bvn)).toEqual(['22212345678']);
  });

  it('takes fault settings through the admin endpoint', async () => {
    const set = await fetch(`${nibssSim.url}/__admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ down: true, failStatus: 502 }),
    });
    expect(set.status).toBe(200);
    const client = new NibssClient(nibssSim.url, { ...fast, credentials: SIMULATOR_CREDENTIALS });
    const err = (await client.bvnsOfPhone('2348031234567').catch((e: unknown) => e)) as SourceError;
    expect(err.status).toBe(502);
    const bad = await fetch(`${nibssSim.url}/__admin/faults`, { method: 'POST', body: '{"failureRate":2}' });
    expect(bad.status).toBe(400);
  });
});
