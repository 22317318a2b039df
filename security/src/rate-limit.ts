import type { Redis } from 'ioredis';

/**
 * Takes `ARGV[2]` hits from a fixed window's shared count in one atomic step: the first take of a
 * window sets its expiry, so parallel takers cannot both see a fresh window. Returns the count
 * after the take and the window's remaining ms.
 */
const TAKE = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

type RedisWithTake = Redis & {
  rateLimitTake(key: string, windowMs: number, hits: number): Promise<[number, number]>;
};

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** A lease is at most this fraction of the limit: what a window can lose to unused leases. */
const LEASE_FRACTION = 64;
const MAX_LEASE = 256;
/** Windows kept before expired ones are swept. */
const SWEEP_AT = 10_000;

/** This process's view of one subject's window. */
interface Window {
  /** Local time (performance.now) at which the shared window ends. */
  until: number;
  /** Hits this process holds and has not used. */
  left: number;
  /** The next lease's size: doubles while the subject keeps using them up. */
  lease: number;
  /** The shared count after this process's last take. */
  count: number;
  /** The shared count reached the limit: refuse locally until the window ends. */
  exhausted: boolean;
  taking: Promise<void> | null;
}

/**
 * Fixed-window rate limits shared by every API process through Redis. A process takes hits from
 * the window's shared count in leases: one Redis call reserves a lease, then that many requests
 * pass on local arithmetic. A lease starts at one hit each window and doubles while the subject
 * uses its leases up, to at most 1/64 of the limit (and 256), so a bank sending thousands of
 * verifications a second costs one Redis call per lease, a subject with a small limit (login: 5 a
 * minute) still counts every hit in Redis, and an exhausted window is refused without Redis.
 * Leases are granted only within the limit, so across processes no window admits more than its
 * limit; hits leased but unused when the window ends are lost, which only ever makes it stricter.
 */
export class RateLimiter {
  private readonly redis: RedisWithTake;
  private readonly windows = new Map<string, Window>();

  constructor(redis: Redis) {
    redis.defineCommand('rateLimitTake', { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as RedisWithTake;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    for (;;) {
      const now = performance.now();
      let w = this.windows.get(key);
      if (!w || now >= w.until) {
        if (this.windows.size >= SWEEP_AT) this.sweep(now);
        w = { until: now + windowMs, left: 0, lease: 1, count: 0, exhausted: false, taking: null };
        this.windows.set(key, w);
      }
      if (w.left > 0) {
        w.left--;
        const remaining = Math.max(0, limit - w.count + w.left);
        return { allowed: true, limit, remaining, resetMs: Math.max(0, Math.round(w.until - now)) };
      }
      if (w.exhausted) {
        return { allowed: false, limit, remaining: 0, resetMs: Math.max(0, Math.round(w.until - now)) };
      }
      // Concurrent requests wait for the same take instead of each asking Redis.
      w.taking ??= this.take(key, w, limit, windowMs);
      await w.taking;
    }
  }

  private async take(key: string, w: Window, limit: number, windowMs: number): Promise<void> {
    const lease = w.lease;
    try {
      const [count, ttl] = await this.redis.rateLimitTake(key, windowMs, lease);
      const usable = Math.max(0, Math.min(lease, limit - (count - lease)));
      w.until = performance.now() + ttl;
      w.count = count;
      w.left += usable;
      // Short of the lease, or at the limit: nothing more to take in this window.
      w.exhausted = usable < lease || count >= limit;
      w.lease = Math.min(lease * 2, MAX_LEASE, Math.max(1, Math.floor(limit / LEASE_FRACTION)));
    } finally {
      w.taking = null;
    }
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) if (now >= w.until && !w.taking) this.windows.delete(key);
  }
}

export interface Limit {
  limit: number;
  windowMs: number;
}

/**
 * Defaults from the Reconix rate-limit table; organisations' plans raise verify and general.
 * `auth` is counted per client address, `authAccount` per account named in a login or reset
 * request (so many addresses cannot share out guesses at one account), the data-subject scopes
 * per principal once it is authenticated.
 */
export interface RateLimits {
  auth: Limit;
  authAccount: Limit;
  general: Limit;
  verify: Limit;
  ndprAccess: Limit;
  ndprDeletion: Limit;
}

const MINUTE = 60_000;
export const DEFAULT_RATE_LIMITS: RateLimits = {
  auth: { limit: 5, windowMs: MINUTE },
  authAccount: { limit: 10, windowMs: MINUTE },
  general: { limit: 100, windowMs: MINUTE },
  verify: { limit: 100, windowMs: MINUTE },
  ndprAccess: { limit: 10, windowMs: MINUTE },
  ndprDeletion: { limit: 2, windowMs: 60 * MINUTE },
};

export type RateScope = keyof RateLimits;

/** Scopes counted per authenticated principal: a route declares them after its auth check. */
export const PRINCIPAL_SCOPES: readonly RateScope[] = ['ndprAccess', 'ndprDeletion'];

/**
 * The limit a routed request counts against when its route declares none, from its path; null
 * for paths that are not limited. Routes with a scope of their own (the data-subject routes)
 * declare it with `Security.limit(scope)`; an unrouted path counts against nothing (it is a 404).
 */
export function rateScopeOf(path: string): RateScope | null {
  if (!path.startsWith('/api/')) return null;
  if (path.startsWith('/api/v1/auth/')) return 'auth';
  if (path.startsWith('/api/v1/phone/api/phone-numbers/verify')) return 'verify';
  if (path.startsWith('/api/v1/health')) return null;
  return 'general';
}
