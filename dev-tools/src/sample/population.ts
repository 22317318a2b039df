import {
  allocatedOperator,
  type DelinkAction,
  type DelinkScope,
  dateToDays,
  dateToEpochMs,
  daysToDate,
  type LinkAction,
  OPERATORS,
  prefixesOf,
  type TelecomStatus,
} from '@hub/schemas';
import { arrivalOrder } from './arrival.ts';
import { type ResolvedOptions, resolveOptions, type SampleOptions } from './options.ts';
import { deriveSeed, Prng } from './prng.ts';
import type {
  BankAccount,
  BvnHolder,
  NumberForm,
  Person,
  SampleNumber,
  StatusTruth,
  Trait,
  TruthEvent,
} from './truth.ts';

export interface Population {
  options: ResolvedOptions;
  numbers: SampleNumber[];
  /** Raw NIN → person (for the NIMC simulator seed only; events carry tokens). */
  people: Map<string, Person>;
  /** Raw BVN → holder (for the NIBSS simulator seed only). */
  bvns: Map<string, BvnHolder>;
}

const FIRST_NAMES = [
  'Adaeze',
  'Chinedu',
  'Ngozi',
  'Emeka',
  'Funmilayo',
  'Oluwaseun',
  'Aisha',
  'Ibrahim',
  'Yetunde',
  'Tunde',
  'Chiamaka',
  'Obinna',
  'Zainab',
  'Musa',
  'Blessing',
  'Uchenna',
  'Halima',
  'Segun',
  'Amaka',
  'Kelechi',
  'Fatima',
  'Babajide',
  'Ifeoma',
  'Abdullahi',
  'Temitope',
  'Nnamdi',
  'Hauwa',
  'Olumide',
  'Efe',
  'Ebere',
];
const SURNAMES = [
  'Okafor',
  'Adeyemi',
  'Bello',
  'Eze',
  'Olawale',
  'Abubakar',
  'Nwosu',
  'Ogunleye',
  'Usman',
  'Okonkwo',
  'Balogun',
  'Ibekwe',
  'Lawal',
  'Chukwu',
  'Adebayo',
  'Danjuma',
  'Onyeka',
  'Akinola',
  'Garba',
  'Obi',
];
/** CBN bank codes of large commercial banks (Access, GTBank, First Bank, UBA, Zenith, Sterling, Wema, FCMB, Fidelity, Ecobank). */
const BANK_CODES = ['044', '058', '011', '033', '057', '232', '035', '214', '070', '050'];
/** Operators a number may be ported to. */
const PORT_TARGETS = ['MTN', 'AIRTEL', 'GLO', '9MOBILE'];
const DELINK_ACTORS = ['admin@ncc.hub', 'ops@nimc.hub', 'regulator@ncc.hub'];
const HOUR_MS = 3_600_000;

/** Simulates `numbers` lives. Deterministic: the same options give the same population. */
export function generatePopulation(opts: SampleOptions, now: number = Date.now()): Population {
  const options = resolveOptions(opts, now);
  const rng = new Prng(options.seed);
  const registry = new IdentityRegistry();
  const msisdns = drawNumbers(rng, options.numbers);
  const numbers = msisdns.map((msisdn, index) => simulateLife(options, index, msisdn, registry));
  return { options, numbers, people: registry.people, bvns: registry.bvns };
}

/** Distinct canonical numbers spread across operators by market share, then prefixes uniformly. */
function drawNumbers(rng: Prng, count: number): string[] {
  const operators = OPERATORS.map((o) => [o.code, o.share] as const);
  const prefixes = new Map(OPERATORS.map((o) => [o.code, prefixesOf(o.code)]));
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < count) {
    const code = rng.weighted(operators);
    const options = prefixes.get(code);
    if (!options || options.length === 0) continue;
    const prefix = rng.pick(options);
    const msisdn = `234${prefix}${rng.digits(10 - prefix.length, false)}`;
    // A longer prefix of another operator could shadow a short one; keep only numbers that resolve back.
    if (seen.has(msisdn) || allocatedOperator(msisdn)?.code !== code) continue;
    seen.add(msisdn);
    out.push(msisdn);
  }
  return out;
}

class IdentityRegistry {
  readonly people = new Map<string, Person>();
  readonly bvns = new Map<string, BvnHolder>();
  private readonly nubans = new Set<string>();

  newPerson(rng: Prng, msisdn: string | null): Person {
    let nin = rng.digits(11);
    while (this.people.has(nin)) nin = rng.digits(11);
    const dob = daysToDate(rng.int(dateToDays('1950-01-01'), dateToDays('2005-12-31')));
    const person = {
      nin,
      firstName: rng.pick(FIRST_NAMES),
      surname: rng.pick(SURNAMES),
      dateOfBirth: dob,
      msisdn,
    };
    this.people.set(nin, person);
    return person;
  }

  newBvn(rng: Prng, holder: Person, msisdn: string): BvnHolder {
    let bvn = rng.digits(11);
    while (this.bvns.has(bvn)) bvn = rng.digits(11);
    const accounts: BankAccount[] = [];
    const count = rng.int(1, 3);
    for (let i = 0; i < count; i++) {
      let nuban = rng.digits(10, false);
      while (this.nubans.has(nuban)) nuban = rng.digits(10, false);
      this.nubans.add(nuban);
      accounts.push({ nuban, bankCode: rng.pick(BANK_CODES) });
    }
    const record = { bvn, nin: holder.nin, msisdn, accounts };
    this.bvns.set(bvn, record);
    return record;
  }
}

interface ActiveLink {
  kind: 'nin' | 'bvn';
  raw: string;
  day: number;
  bvn?: BvnHolder;
}

/**
 * Builds one life. Days are whole days since 1970-01-01. Status events of a number get distinct
 * dates, so the state model's "same date: later arrival wins" rule never decides the outcome.
 */
class Life {
  readonly events: { seq: number; event: TruthEvent }[] = [];
  readonly traits = new Set<Trait>();
  private readonly statusDays = new Set<number>();
  private seq = 0;

  constructor(
    readonly rng: Prng,
    readonly msisdn: string,
    readonly lastDay: number,
  ) {}

  private base(day: number): { id: string; day: string; occurredAt: number } {
    const occurredAt = dateToEpochMs(daysToDate(day)) + this.rng.int(1 * HOUR_MS, 21 * HOUR_MS);
    return { id: this.rng.uuid(), day: daysToDate(day), occurredAt };
  }

  private push(event: TruthEvent): void {
    this.events.push({ seq: this.seq++, event });
  }

  /** A status event on a free day in [lo, hi]; null when every day there is taken or the range is empty. */
  status(
    lo: number,
    hi: number,
    status: TelecomStatus,
    operator: (day: number) => string,
    remarks: string | null,
  ): number | null {
    const top = Math.min(hi, this.lastDay);
    if (lo > top) return null;
    const start = this.rng.int(lo, top);
    let day = -1;
    for (let d = start; d <= top && day < 0; d++) if (!this.statusDays.has(d)) day = d;
    for (let d = start - 1; d >= lo && day < 0; d--) if (!this.statusDays.has(d)) day = d;
    if (day < 0) return null;
    this.statusDays.add(day);
    const date = daysToDate(day);
    const needsReassignment = status === 'SWAPPED' || status === 'CHURNED' || status === 'REASSIGNED';
    const event: StatusTruth = {
      kind: 'status-update',
      ...this.base(day),
      status,
      operator: operator(day),
      reassignmentDate: needsReassignment ? date : null,
      remarks,
      filedAs: status === 'BLACKLISTED' && this.rng.chance(0.3) ? 'BARRED' : status,
      numberForm: this.rng.weighted<NumberForm>([
        ['national', 0.8],
        ['international', 0.15],
        ['plus', 0.05],
      ]),
    };
    this.push(event);
    return day;
  }

  nin(day: number, action: LinkAction, nin: string): void {
    this.push({ kind: 'nin-linkage', ...this.base(day), action, nin });
  }

  bvn(day: number, action: LinkAction, holder: BvnHolder, holderKnown: boolean): void {
    const account = holder.accounts[0];
    if (!account) throw new Error(`BVN ${holder.bvn} has no account`);
    this.push({
      kind: 'bvn-linkage',
      ...this.base(day),
      action,
      bvn: holder.bvn,
      holderNin: holderKnown ? holder.nin : null,
      nuban: account.nuban,
      bankCode: account.bankCode,
    });
  }

  delink(
    day: number,
    requestId: string,
    action: DelinkAction,
    scope: DelinkScope,
    actor: string,
    reason: string,
  ): void {
    this.push({ kind: 'delink', ...this.base(day), requestId, action, scope, actor, reason });
  }

  /** The life in true order: by day, then by the order the script produced events on that day. */
  chronological(): TruthEvent[] {
    return [...this.events]
      .sort((a, b) => (a.event.day < b.event.day ? -1 : a.event.day > b.event.day ? 1 : a.seq - b.seq))
      .map((x) => x.event);
  }
}

function simulateLife(
  options: ResolvedOptions,
  index: number,
  msisdn: string,
  registry: IdentityRegistry,
): SampleNumber {
  const { rates } = options;
  const rng = new Prng(deriveSeed(options.seed, index));
  const first = dateToDays(options.startDate);
  const last = dateToDays(options.endDate);
  const life = new Life(rng, msisdn, last);
  const allocated = allocatedOperator(msisdn)?.code;
  if (!allocated) throw new Error(`${msisdn} has no allocated operator`);

  const activation = rng.int(first, last - 180);
  const churnDay = rng.chance(rates.churned) ? rng.int(activation + 90, last - 30) : null;
  const ownerEnd = churnDay === null ? last : churnDay - 1;

  let portDay: number | null = null;
  let portedTo = allocated;
  if (rng.chance(rates.ported) && activation + 30 <= ownerEnd) {
    portDay = rng.int(activation + 30, ownerEnd);
    portedTo = rng.pick(PORT_TARGETS.filter((c) => c !== allocated));
  }
  const operatorOn = (day: number): string => (portDay !== null && day >= portDay ? portedTo : allocated);

  if (rng.chance(rates.statusReported)) {
    if (life.status(activation, activation, 'NORMAL', operatorOn, 'Line activated') !== null) {
      life.traits.add('status-reported');
    }
  }
  if (portDay !== null) {
    if (life.status(portDay, portDay, 'NORMAL', operatorOn, `Ported in from ${allocated}`) !== null) {
      life.traits.add('ported');
    }
  }

  const owner = registry.newPerson(rng, msisdn);
  const oldLinks = linkOwner(life, registry, rates, owner, activation, ownerEnd);

  let recycleDay: number | null = null;
  let reassignDay: number | null = null;
  if (churnDay !== null) {
    const churned = life.status(churnDay, churnDay, 'CHURNED', operatorOn, 'Inactive line recovered');
    if (churned !== null) {
      life.traits.add('churned');
      recycleDay = churned;
      const staleLeft = oldLinks.length > 0 && rng.chance(rates.staleLeftAtChurn);
      if (staleLeft) life.traits.add('stale-left');
      else {
        // A clean churn: NIMC/NIBSS unlink the old owner within a month.
        for (const link of oldLinks) unlink(life, link, rng.int(churned, Math.min(churned + 30, last)));
      }
      if (rng.chance(rates.reassignedAfterChurn)) {
        reassignDay = life.status(
          churned + 30,
          churned + 365,
          'REASSIGNED',
          operatorOn,
          'Number reassigned to new user',
        );
      }
      if (reassignDay !== null) {
        life.traits.add('reassigned');
        recycleDay = reassignDay;
        const newOwner = registry.newPerson(rng, msisdn);
        linkOwner(life, registry, rates, newOwner, reassignDay, last);
      }
      if (staleLeft && rng.chance(rates.delinkRequested)) delinkWorkflow(life, rates, recycleDay + 1, last);
    }
  }

  const churnedOnly = recycleDay !== null && reassignDay === null;
  if (rng.chance(rates.swapped)) {
    const from = reassignDay !== null ? reassignDay + 1 : activation + 1;
    const to = churnedOnly && churnDay !== null ? churnDay - 1 : last;
    const recent = !churnedOnly && rng.chance(rates.swappedRecently);
    const swap = life.status(
      recent ? Math.max(from, last - 9) : from,
      to,
      'SWAPPED',
      operatorOn,
      'SIM swap at customer request',
    );
    if (swap !== null) {
      life.traits.add('swapped');
      if (swap >= last - 9) life.traits.add('swapped-recently');
    }
  }
  if (!churnedOnly && rng.chance(rates.blacklisted)) {
    const latest = life.events.reduce(
      (max, { event }) => (event.kind === 'status-update' ? Math.max(max, dateToDays(event.day)) : max),
      activation,
    );
    const barred = life.status(latest + 1, last, 'BLACKLISTED', operatorOn, 'Barred: reported for fraud');
    if (barred !== null) {
      life.traits.add('blacklisted');
      if (rng.chance(rates.blacklistLifted))
        life.status(barred + 1, last, 'NORMAL', operatorOn, 'Bar lifted');
    }
  }

  const truth = life.chronological();
  const arrival = arrivalOrder(truth, rng, rates);
  if (arrival.late > 0) life.traits.add('late');
  if (arrival.duplicates > 0) life.traits.add('duplicate');
  return { msisdn, allocatedOperator: allocated, truth, arrival: arrival.order, traits: [...life.traits] };
}

/** Links a subscriber's identities during their ownership [from, to]; returns the links still active at `to`. */
function linkOwner(
  life: Life,
  registry: IdentityRegistry,
  rates: ResolvedOptions['rates'],
  person: Person,
  from: number,
  to: number,
): ActiveLink[] {
  const { rng } = life;
  const active: ActiveLink[] = [];
  const maybeUnlink = (link: ActiveLink): void => {
    if (link.day + 1 <= to && rng.chance(rates.unlink)) {
      unlink(life, link, rng.int(link.day + 1, to));
      life.traits.add('unlinked');
    } else {
      active.push(link);
    }
  };
  if (from > to) return active;
  if (rng.chance(rates.ninLinked)) {
    const day = rng.int(from, Math.min(from + 60, to));
    life.nin(day, 'LINK', person.nin);
    life.traits.add('nin-linked');
    maybeUnlink({ kind: 'nin', raw: person.nin, day });
    if (rng.chance(rates.secondNin) && day + 1 <= to) {
      // A relative's NIN registered on the same line: two active NINs.
      const relative = registry.newPerson(rng, life.msisdn);
      const second = rng.int(day + 1, to);
      life.nin(second, 'LINK', relative.nin);
      life.traits.add('second-nin');
      active.push({ kind: 'nin', raw: relative.nin, day: second });
    }
  }
  if (rng.chance(rates.bvnLinked)) {
    const differs = rng.chance(rates.holderNinDiffers);
    const holder = differs ? registry.newPerson(rng, null) : person;
    if (differs) life.traits.add('holder-nin-differs');
    const bvn = registry.newBvn(rng, holder, life.msisdn);
    const day = rng.int(from, Math.min(from + 120, to));
    life.bvn(day, 'LINK', bvn, !rng.chance(rates.holderNinUnknown));
    life.traits.add('bvn-linked');
    maybeUnlink({ kind: 'bvn', raw: bvn.bvn, day, bvn });
  }
  return active;
}

function unlink(life: Life, link: ActiveLink, day: number): void {
  if (link.kind === 'nin') life.nin(day, 'UNLINK', link.raw);
  else if (link.bvn) life.bvn(day, 'UNLINK', link.bvn, true);
}

type DelinkOutcome = 'COMPLETED' | 'OPEN_REQUESTED' | 'OPEN_APPROVED' | 'REJECTED' | 'CANCELLED';

/** REQUESTED → APPROVED → COMPLETED for the old owner's linkages, or stopped on the way. */
function delinkWorkflow(life: Life, rates: ResolvedOptions['rates'], from: number, last: number): void {
  const { rng } = life;
  if (from > last) return;
  const rest = (1 - rates.delinkCompleted) / 4;
  const outcome = rng.weighted<DelinkOutcome>([
    ['COMPLETED', rates.delinkCompleted],
    ['OPEN_REQUESTED', rest],
    ['OPEN_APPROVED', rest],
    ['REJECTED', rest],
    ['CANCELLED', rest],
  ]);
  const scope = rng.weighted<DelinkScope>([
    ['ALL', 0.8],
    ['NIN', 0.1],
    ['BVN', 0.1],
  ]);
  const requestId = rng.uuid();
  const actor = rng.pick(DELINK_ACTORS);
  const requested = rng.int(from, Math.min(from + 60, last));
  life.delink(
    requested,
    requestId,
    'REQUESTED',
    scope,
    actor,
    'Recycled number still linked to previous owner',
  );
  life.traits.add('delink-requested');
  if (outcome === 'OPEN_REQUESTED') return;
  const decided = rng.int(requested, Math.min(requested + 14, last));
  if (outcome === 'REJECTED' || outcome === 'CANCELLED') {
    life.delink(decided, requestId, outcome, scope, actor, 'Linkage confirmed by previous owner');
    return;
  }
  life.delink(
    decided,
    requestId,
    'APPROVED',
    scope,
    actor,
    'Previous owner verified as no longer holding the line',
  );
  if (outcome === 'OPEN_APPROVED') return;
  const done = rng.int(decided, Math.min(decided + 30, last));
  life.delink(done, requestId, 'COMPLETED', scope, actor, 'Old linkages cleared with NIMC/NIBSS');
  life.traits.add('delink-completed');
}
