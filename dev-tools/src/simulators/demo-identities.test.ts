import { NibssClient } from '@hub/identity-sources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_IDENTITIES, demoAccountLines, withDemoIdentities } from './demo-identities.ts';
import { EMPTY_SEED, IdentityIndex } from './identities.ts';
import { createNibssSimulator } from './nibss.ts';
import { type RunningSimulator, startSimulator } from './server.ts';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator(createNibssSimulator(new IdentityIndex(withDemoIdentities(EMPTY_SEED))), 0);
});

afterAll(async () => {
  await sim?.close();
});

describe('simulator demo accounts', () => {
  it('approves a name enquiry for every published demo account through the NIBSS adapter', async () => {
    const client = new NibssClient(sim.url, { credentials: { userName: 'test', password: 'test' } });
    for (const [bvn, holder] of Object.entries(DEMO_IDENTITIES.bvns))
      for (const a of holder.accounts) {
        const answer = await client.nameEnquiry(a.nuban, a.bankCode);
        expect(answer.responseCode).toBe('00');
        expect(answer.accountName).toBe(`${holder.surname.toUpperCase()}, ${holder.firstName.toUpperCase()}`);
        expect(answer.bvn).toBe(bvn);
      }
  });

  it('lists one line per account for npm start', () => {
    expect(demoAccountLines()).toHaveLength(2);
    expect(demoAccountLines()[0]).toContain('0114542453');
  });
});
