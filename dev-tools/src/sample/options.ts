import { checkDate, dateToDays, daysToDate, todayInLagos } from '@hub/schemas';
import { checkSeed } from './prng.ts';

/**
 * Probabilities that shape the simulated lives. Each is a share in [0, 1]; "of …" says which
 * numbers it applies to. Defaults follow the orders of magnitude in the design notes (most lines
 * NIN-linked since the 2020–2024 NIN–SIM drive, about half BVN-linked, a minority recycled).
 */
export interface SampleRates {
  /** Of subscribers: NIN linked to the number. */
  ninLinked: number;
  /** Of subscribers: BVN linked to the number. */
  bvnLinked: number;
  /** Of BVN linkages: the BVN belongs to someone else (NIBSS's holder NIN differs from NIMC's). */
  holderNinDiffers: number;
  /** Of BVN linkage events: NIBSS does not send the holder's NIN. */
  holderNinUnknown: number;
  /** Of subscribers: a second person's NIN also linked (two active NINs). */
  secondNin: number;
  /** Of each linkage: later unlinked by the subscriber. */
  unlink: number;
  /** Of numbers: the operator reported a NORMAL status at activation. */
  statusReported: number;
  /** Of numbers: ported to another operator (later status events come from it). */
  ported: number;
  /** Of numbers: churned by the operator. */
  churned: number;
  /** Of churned numbers: later reassigned to a new subscriber. */
  reassignedAfterChurn: number;
  /** Of churned numbers: the old owner's linkages were left active (stale once recycled). */
  staleLeftAtChurn: number;
  /** Of numbers with stale linkages: a delink request was raised. */
  delinkRequested: number;
  /** Of delink requests: completed (the rest stay open as REQUESTED/APPROVED, or are REJECTED/CANCELLED). */
  delinkCompleted: number;
  /** Of numbers (not churned-only): SIM swapped. */
  swapped: number;
  /** Of swaps: within the last 10 days of the period. */
  swappedRecently: number;
  /** Of numbers (not churned-only): blacklisted. */
  blacklisted: number;
  /** Of blacklisted numbers: the bar was lifted later (NORMAL again). */
  blacklistLifted: number;
  /** Of events: delivered late, after a newer event of the same number. */
  late: number;
  /** Of events: delivered twice (same event id). */
  duplicate: number;
}

export const DEFAULT_RATES: Readonly<SampleRates> = {
  ninLinked: 0.92,
  bvnLinked: 0.6,
  holderNinDiffers: 0.05,
  holderNinUnknown: 0.1,
  secondNin: 0.02,
  unlink: 0.03,
  statusReported: 0.5,
  ported: 0.02,
  churned: 0.12,
  reassignedAfterChurn: 0.75,
  staleLeftAtChurn: 0.5,
  delinkRequested: 0.6,
  delinkCompleted: 0.6,
  swapped: 0.08,
  swappedRecently: 0.3,
  blacklisted: 0.01,
  blacklistLifted: 0.3,
  late: 0.05,
  duplicate: 0.02,
};

export interface SampleOptions {
  /** How many distinct numbers to simulate. */
  numbers: number;
  /** 32-bit unsigned seed; the same seed and options give the same sample, byte for byte. */
  seed: number;
  /** HMAC secret that tokenises NIN, BVN and NUBAN in the events (the hub's TOKEN_SECRET). */
  tokenSecret: string;
  /** First day of the simulated period (YYYY-MM-DD). Default 2019-01-01. */
  startDate?: string;
  /** Last day of the simulated period (YYYY-MM-DD). Default yesterday in Lagos; fix it for reproducible files. */
  endDate?: string;
  rates?: Partial<SampleRates>;
}

export interface ResolvedOptions {
  numbers: number;
  seed: number;
  tokenSecret: string;
  startDate: string;
  endDate: string;
  rates: SampleRates;
}

export const MAX_NUMBERS = 50_000_000;
/** Lives need room: activation, churn, a reassignment gap and a new owner. */
export const MIN_PERIOD_DAYS = 365;

export class SampleOptionsError extends Error {
  override readonly name = 'SampleOptionsError';
}

export function defaultEndDate(now: number = Date.now()): string {
  return daysToDate(dateToDays(todayInLagos(now)) - 1);
}

export function resolveOptions(opts: SampleOptions, now: number = Date.now()): ResolvedOptions {
  const problems: string[] = [];
  if (!Number.isInteger(opts.numbers) || opts.numbers < 1 || opts.numbers > MAX_NUMBERS) {
    problems.push(`numbers must be an integer from 1 to ${MAX_NUMBERS}, got ${String(opts.numbers)}`);
  }
  try {
    checkSeed(opts.seed);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (typeof opts.tokenSecret !== 'string' || opts.tokenSecret.length === 0) {
    problems.push('tokenSecret must be a non-empty string (the TOKEN_SECRET the hub tokenises with)');
  }
  const startDate = opts.startDate ?? '2019-01-01';
  const endDate = opts.endDate ?? defaultEndDate(now);
  const start = checkDate(startDate);
  const end = checkDate(endDate);
  if (!start.ok) problems.push(`startDate ${start.reason}`);
  if (!end.ok) problems.push(`endDate ${end.reason}`);
  if (start.ok && end.ok) {
    const today = todayInLagos(now);
    if (endDate > today) problems.push(`endDate '${endDate}' is in the future (today in Lagos is ${today})`);
    const span = dateToDays(endDate) - dateToDays(startDate);
    if (span < MIN_PERIOD_DAYS) {
      problems.push(
        `the period ${startDate} → ${endDate} is ${span} days; it must be at least ${MIN_PERIOD_DAYS}`,
      );
    }
  }
  const rates: SampleRates = { ...DEFAULT_RATES };
  for (const [name, value] of Object.entries(opts.rates ?? {})) {
    if (!(name in DEFAULT_RATES)) {
      problems.push(`unknown rate '${name}' (known: ${Object.keys(DEFAULT_RATES).join(', ')})`);
      continue;
    }
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      problems.push(`rate ${name} must be a number from 0 to 1, got ${String(value)}`);
      continue;
    }
    rates[name as keyof SampleRates] = value;
  }
  if (problems.length > 0) {
    throw new SampleOptionsError(`invalid sample options:\n  - ${problems.join('\n  - ')}`);
  }
  return { numbers: opts.numbers, seed: opts.seed, tokenSecret: opts.tokenSecret, startDate, endDate, rates };
}
