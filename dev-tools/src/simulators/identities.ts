import { readFileSync } from 'node:fs';

/** One person as NIMC holds them (raw NIN is the key of `IdentitySeed.nins`). */
export interface SeedPerson {
  firstName: string;
  surname: string;
  dateOfBirth: string;
  /** The number NIMC has this NIN linked to; null for a BVN holder known only to NIBSS. */
  msisdn: string | null;
}

/** One BVN as NIBSS holds it (raw BVN is the key of `IdentitySeed.bvns`). */
export interface SeedBvn {
  nin: string;
  firstName: string;
  surname: string;
  dateOfBirth: string;
  msisdn: string;
  accounts: { nuban: string; bankCode: string }[];
}

/** The shape `writeIdentities` (dev-tools/src/sample/files.ts) writes. */
export interface IdentitySeed {
  nins: Record<string, SeedPerson>;
  bvns: Record<string, SeedBvn>;
}

export const EMPTY_SEED: IdentitySeed = { nins: {}, bvns: {} };

export function loadIdentitySeed(path: string): IdentitySeed {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<IdentitySeed>;
  return { nins: parsed.nins ?? {}, bvns: parsed.bvns ?? {} };
}

/** Lookups the simulators answer, indexed once at start. */
export class IdentityIndex {
  private readonly ninsByPhone = new Map<string, string[]>();
  private readonly bvnsByPhone = new Map<string, string[]>();
  private readonly bvnByAccount = new Map<string, string>();

  constructor(readonly seed: IdentitySeed) {
    for (const [nin, person] of Object.entries(seed.nins)) {
      if (person.msisdn) push(this.ninsByPhone, person.msisdn, nin);
    }
    for (const [bvn, holder] of Object.entries(seed.bvns)) {
      push(this.bvnsByPhone, holder.msisdn, bvn);
      for (const a of holder.accounts) this.bvnByAccount.set(`${a.bankCode}:${a.nuban}`, bvn);
    }
  }

  person(nin: string): SeedPerson | undefined {
    return Object.hasOwn(this.seed.nins, nin) ? this.seed.nins[nin] : undefined;
  }

  bvn(bvn: string): SeedBvn | undefined {
    return Object.hasOwn(this.seed.bvns, bvn) ? this.seed.bvns[bvn] : undefined;
  }

  ninsOfPhone(msisdn: string): string[] {
    return this.ninsByPhone.get(msisdn) ?? [];
  }

  bvnsOfPhone(msisdn: string): string[] {
    return this.bvnsByPhone.get(msisdn) ?? [];
  }

  bvnOfAccount(bankCode: string, nuban: string): string | undefined {
    return this.bvnByAccount.get(`${bankCode}:${nuban}`);
  }

  /** The source unlinked a NIN from a phone (a delink): later lookups no longer list it. */
  unlinkNin(msisdn: string, nin: string): void {
    remove(this.ninsByPhone, msisdn, nin);
  }

  unlinkBvn(msisdn: string, bvn: string): void {
    remove(this.bvnsByPhone, msisdn, bvn);
  }
}

function remove(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key)?.filter((v) => v !== value);
  if (list && list.length > 0) map.set(key, list);
  else map.delete(key);
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
