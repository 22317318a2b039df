import type { StateChangeEvent, VerificationEvent } from '@hub/schemas';
import type { Redis } from 'ioredis';
import type { OutboundKeys } from './keys.ts';

/**
 * Watch lists: which organisations verified a number, one small Redis hash per watched number
 * (`w:<msisdn>`), so the lookup for a state change is one HGETALL (one pipelined round trip for
 * a batch). Fields: organisation -> when its watch ends (base-36 epoch seconds); `_` -> the
 * statuses last seen (`<version>:<prev tel><prev life><tel><life>`, one letter each), so a
 * webhook can say what the status was before. The key expires with its newest watch; an older
 * watch inside it is ignored once its own time has passed, and dropped on the next change.
 */

const TEL = { NORMAL: 'N', CHURNED: 'C', SWAPPED: 'S', BLACKLISTED: 'B', REASSIGNED: 'R' } as const;
const LIFE = { ACTIVE: 'A', RECYCLED: 'R', CONFLICTED: 'C', BLOCKED: 'B', AVAILABLE: 'V' } as const;
const TEL_OF = Object.fromEntries(Object.entries(TEL).map(([k, v]) => [v, k])) as Record<string, string>;
const LIFE_OF = Object.fromEntries(Object.entries(LIFE).map(([k, v]) => [v, k])) as Record<string, string>;

const tel = (s: string | null) => (s && s in TEL ? TEL[s as keyof typeof TEL] : '-');
const life = (s: string | null) => (s && s in LIFE ? LIFE[s as keyof typeof LIFE] : '-');

export interface Statuses {
  telecom: string | null;
  lifecycle: string | null;
}

export interface SeenStatuses {
  version: number;
  previous: Statuses;
  current: Statuses;
}

export function encodeSeen(s: SeenStatuses): string {
  return `${s.version}:${tel(s.previous.telecom)}${life(s.previous.lifecycle)}${tel(s.current.telecom)}${life(s.current.lifecycle)}`;
}

export function decodeSeen(raw: string | undefined): SeenStatuses | null {
  const m = raw ? /^(\d+):(.)(.)(.)(.)$/.exec(raw) : null;
  if (!m) return null;
  return {
    version: Number(m[1]),
    previous: { telecom: TEL_OF[m[2]!] ?? null, lifecycle: LIFE_OF[m[3]!] ?? null },
    current: { telecom: TEL_OF[m[4]!] ?? null, lifecycle: LIFE_OF[m[5]!] ?? null },
  };
}

const CANONICAL = /^234\d{10}$/;

export class WatchList {
  constructor(
    private readonly redis: Redis,
    private readonly keys: OutboundKeys,
    private readonly ttlSeconds: number,
  ) {}

  /** Records a batch of verifications in one pipelined round trip; returns how many watches were set. */
  async record(events: readonly VerificationEvent[]): Promise<number> {
    const pipeline = this.redis.pipeline();
    let n = 0;
    for (const e of events) {
      if (e.verificationStatus !== 'VERIFIED' || !CANONICAL.test(e.msisdn) || !e.organisation) continue;
      const key = this.keys.watch(e.msisdn);
      const until = Math.floor(e.occurredAt / 1000) + this.ttlSeconds;
      pipeline.hset(key, e.organisation, until.toString(36));
      // What the verifier saw is the "before" of the first change it hears about.
      pipeline.hsetnx(
        key,
        '_',
        encodeSeen({
          version: 0,
          previous: { telecom: e.telecomStatus, lifecycle: e.lifecycleStatus },
          current: { telecom: e.telecomStatus, lifecycle: e.lifecycleStatus },
        }),
      );
      pipeline.expireat(key, until, 'GT');
      pipeline.expireat(key, until, 'NX');
      n++;
    }
    if (n > 0) await pipeline.exec();
    return n;
  }

  /** The watchers of each number and the statuses last seen for it, in one round trip. */
  async lookup(
    msisdns: readonly string[],
    now: number,
  ): Promise<{ organisations: string[]; seen: SeenStatuses | null; expired: string[] }[]> {
    const pipeline = this.redis.pipeline();
    for (const m of msisdns) pipeline.hgetall(this.keys.watch(m));
    const rows = (await pipeline.exec()) ?? [];
    const nowSeconds = Math.floor(now / 1000);
    return rows.map(([, value]) => {
      const hash = (value ?? {}) as Record<string, string>;
      const organisations: string[] = [];
      const expired: string[] = [];
      for (const [field, v] of Object.entries(hash)) {
        if (field === '_') continue;
        if (Number.parseInt(v, 36) > nowSeconds) organisations.push(field);
        else expired.push(field);
      }
      return { organisations, seen: decodeSeen(hash._), expired };
    });
  }

  /**
   * The statuses before `change` and the record to store: a redelivered change (same version)
   * gets the same "before" as the first time; an older one is stale (null).
   */
  static advance(
    seen: SeenStatuses | null,
    change: StateChangeEvent,
  ): { before: Statuses; next: SeenStatuses } | null {
    const now = { telecom: change.telecomStatus, lifecycle: change.lifecycleStatus };
    if (!seen)
      return {
        before: { telecom: null, lifecycle: null },
        next: { version: change.version, previous: { telecom: null, lifecycle: null }, current: now },
      };
    if (change.version < seen.version) return null;
    const before = change.version === seen.version ? seen.previous : seen.current;
    return { before, next: { version: change.version, previous: before, current: now } };
  }
}
