import type { IdentitySeed } from './identities.ts';

/**
 * Published sandbox identities every simulator serves beside the sample's, so an approved name
 * enquiry or a NIN verify can be tried at once (README "Simulator demo accounts"). Made-up values;
 * the numbers are outside the demo sample's ranges.
 */
export const DEMO_IDENTITIES: IdentitySeed = {
  nins: {
    '70000000011': {
      firstName: 'Phoebe',
      surname: 'Buffay',
      dateOfBirth: '1989-04-16',
      msisdn: '2348099000011',
    },
    '70000000022': {
      firstName: 'Joshua',
      surname: 'Nnaji',
      dateOfBirth: '1985-11-02',
      msisdn: '2348099000022',
    },
  },
  bvns: {
    '22270000011': {
      nin: '70000000011',
      firstName: 'Phoebe',
      surname: 'Buffay',
      dateOfBirth: '1989-04-16',
      msisdn: '2348099000011',
      accounts: [{ nuban: '0114542453', bankCode: '058' }],
    },
    '22270000022': {
      nin: '70000000022',
      firstName: 'Joshua',
      surname: 'Nnaji',
      dateOfBirth: '1985-11-02',
      msisdn: '2348099000022',
      accounts: [{ nuban: '1018996198', bankCode: '110000' }],
    },
  },
};

/** The sample's identities with the demo ones added (the sample wins on a clash). */
export function withDemoIdentities(seed: IdentitySeed): IdentitySeed {
  return { nins: { ...DEMO_IDENTITIES.nins, ...seed.nins }, bvns: { ...DEMO_IDENTITIES.bvns, ...seed.bvns } };
}

/** One line per demo account, as `npm start` prints them. */
export function demoAccountLines(): string[] {
  return Object.entries(DEMO_IDENTITIES.bvns).flatMap(([, b]) =>
    b.accounts.map(
      (a) =>
        `NUBAN ${a.nuban} at bank ${a.bankCode}: ${b.surname.toUpperCase()}, ${b.firstName.toUpperCase()} (NIN ${b.nin}, phone +${b.msisdn})`,
    ),
  );
}
