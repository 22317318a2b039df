import {
  type IdentitySources,
  type NibssBvnRecord,
  type NimcPerson,
  SourceError,
  type SourceFailure,
} from '@hub/identity-sources';
import { mask, tokenise } from '@hub/schemas';
import type { BvnLink, NinLink, StateView } from '@hub/state';

/** How the hub's record of a linkage compares with what a source says. */
export interface Difference {
  identifier: 'NIN' | 'BVN' | 'BVN_HOLDER_NIN';
  /** Masked identifier (last four digits); raw identifiers never leave this module. */
  masked: string;
  hub: 'active' | 'cleared' | 'absent';
  source: 'linked' | 'absent' | 'differs';
  detail: string;
}

export type SourceVerdict =
  | { status: 'agrees'; latency_ms: number; linked: string[] }
  | { status: 'disagrees'; latency_ms: number; linked: string[]; differences: Difference[] }
  | { status: 'unavailable'; latency_ms: number; failure: SourceFailure; reason: string };

export interface CrossCheck {
  status: 'agrees' | 'disagrees' | 'not_applicable' | 'unavailable';
  detail: string;
}

export interface Corroboration {
  result: 'agrees' | 'disagrees' | 'partial' | 'unavailable';
  nimc: SourceVerdict;
  nibss: SourceVerdict;
  cross_check: CrossCheck;
}

type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: SourceError; ms: number };

async function timed<T>(source: string, call: () => Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    return { ok: true, value: await call(), ms: ms() };
  } catch (err) {
    const error =
      err instanceof SourceError ? err : new SourceError(source, 'bad-response', (err as Error).message);
    return { ok: false, error, ms: ms() };
  }
}

/**
 * Asks NIMC and NIBSS, in parallel, what they hold for a number, and compares it with the hub's
 * state. The hub holds only tokens, so it asks by phone number, tokenises the raw identifiers the
 * sources return with its own secret, compares tokens, and keeps nothing but masks.
 */
export async function corroborate(
  sources: IdentitySources,
  msisdn: string,
  view: StateView | null,
  tokenSecret: string,
): Promise<Corroboration> {
  const [nimc, nibss] = await Promise.all([
    timed('NIMC', () => sources.nimc.ninsOfPhone(msisdn)),
    timed('NIBSS', () => sources.nibss.bvnsOfPhone(msisdn)),
  ]);
  const nimcVerdict = nimc.ok
    ? compareNins(nimc.value, view?.ninLinkages ?? [], tokenSecret, nimc.ms)
    : unavailable(nimc);
  const nibssVerdict = nibss.ok
    ? compareBvns(nibss.value, view?.bvnLinkages ?? [], tokenSecret, nibss.ms)
    : unavailable(nibss);
  const verdicts = [nimcVerdict, nibssVerdict];
  const up = verdicts.filter((v) => v.status !== 'unavailable');
  const result = verdicts.some((v) => v.status === 'disagrees')
    ? 'disagrees'
    : up.length === 0
      ? 'unavailable'
      : up.length < verdicts.length
        ? 'partial'
        : 'agrees';
  return {
    result,
    nimc: nimcVerdict,
    nibss: nibssVerdict,
    cross_check: crossCheck(nimc.ok ? nimc.value : null, nibss.ok ? nibss.value : null),
  };
}

function unavailable(o: { error: SourceError; ms: number }): SourceVerdict {
  return { status: 'unavailable', latency_ms: o.ms, failure: o.error.failure, reason: o.error.message };
}

interface Linked {
  token: string;
  masked: string;
}

/** Source-linked identifiers against the hub's linkages of the same kind. */
function compareLinks(kind: 'NIN' | 'BVN', linked: Linked[], hub: readonly NinLink[]): Difference[] {
  const differences: Difference[] = [];
  const hubByToken = new Map(hub.map((l) => [l.token, l]));
  const sourceTokens = new Set(linked.map((l) => l.token));
  const sourceName = kind === 'NIN' ? 'NIMC' : 'NIBSS';
  for (const l of linked) {
    const mine = hubByToken.get(l.token);
    if (!mine) {
      differences.push({
        identifier: kind,
        masked: l.masked,
        hub: 'absent',
        source: 'linked',
        detail: `${sourceName} links ${kind} ${l.masked} to the number; the hub has no such linkage`,
      });
    } else if (mine.clearedDate !== null) {
      differences.push({
        identifier: kind,
        masked: l.masked,
        hub: 'cleared',
        source: 'linked',
        detail: `${sourceName} still links ${kind} ${l.masked}; the hub cleared it on ${mine.clearedDate}`,
      });
    }
  }
  for (const mine of hub) {
    if (mine.clearedDate === null && !sourceTokens.has(mine.token)) {
      differences.push({
        identifier: kind,
        masked: mine.masked,
        hub: 'active',
        source: 'absent',
        detail: `the hub has ${kind} ${mine.masked} active since ${mine.linkDate}; ${sourceName} does not link it to the number`,
      });
    }
  }
  return differences;
}

function verdict(linked: Linked[], differences: Difference[], ms: number): SourceVerdict {
  const masks = linked.map((l) => l.masked);
  return differences.length === 0
    ? { status: 'agrees', latency_ms: ms, linked: masks }
    : { status: 'disagrees', latency_ms: ms, linked: masks, differences };
}

export function compareNins(
  people: readonly NimcPerson[],
  hub: readonly NinLink[],
  secret: string,
  ms = 0,
): SourceVerdict {
  const linked = people.map((p) => ({ token: tokenise('NIN', p.nin, secret), masked: mask(p.nin) }));
  return verdict(linked, compareLinks('NIN', linked, hub), ms);
}

export function compareBvns(
  records: readonly NibssBvnRecord[],
  hub: readonly BvnLink[],
  secret: string,
  ms = 0,
): SourceVerdict {
  const linked = records.map((r) => ({ token: tokenise('BVN', r.bvn, secret), masked: mask(r.bvn) }));
  const differences = compareLinks('BVN', linked, hub);
  const hubByToken = new Map(hub.map((l) => [l.token, l]));
  records.forEach((r, i) => {
    const mine = hubByToken.get(linked[i]!.token);
    // Only a holder NIN both sides know can disagree; a missing one is a gap, not a contradiction.
    if (!mine || mine.holderNinToken === null || r.nin === null) return;
    if (tokenise('NIN', r.nin, secret) !== mine.holderNinToken) {
      differences.push({
        identifier: 'BVN_HOLDER_NIN',
        masked: linked[i]!.masked,
        hub: mine.clearedDate === null ? 'active' : 'cleared',
        source: 'differs',
        detail: `NIBSS names NIN ${mask(r.nin)} as the holder of BVN ${linked[i]!.masked}; the hub holds a different holder NIN`,
      });
    }
  });
  return verdict(linked, differences, ms);
}

/** NIMC's NINs for the number against the NINs behind NIBSS's BVNs for it (the sources with each other). */
export function crossCheck(
  nimc: readonly NimcPerson[] | null,
  nibss: readonly NibssBvnRecord[] | null,
): CrossCheck {
  if (nimc === null || nibss === null) {
    return { status: 'unavailable', detail: 'needs both NIMC and NIBSS answers' };
  }
  const holders = nibss.filter((b) => b.nin !== null);
  if (nimc.length === 0 || holders.length === 0) {
    return {
      status: 'not_applicable',
      detail: 'one source links no identity with a known NIN to the number',
    };
  }
  const nins = new Set(nimc.map((p) => p.nin));
  const strangers = holders.filter((b) => !nins.has(b.nin!));
  if (strangers.length === 0) {
    return { status: 'agrees', detail: "every BVN's holder NIN is among NIMC's NINs for the number" };
  }
  return {
    status: 'disagrees',
    detail: `BVN ${strangers.map((b) => mask(b.bvn)).join(', ')} belongs to a NIN NIMC does not link to the number`,
  };
}
