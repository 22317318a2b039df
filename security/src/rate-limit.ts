import type { Redis } from 'ioredis';

/**
 * Fixed-window counter in one atomic step: the first hit of a window sets its expiry, so parallel
 * requests cannot both see a fresh window. Returns the count so far and the window's remaining ms.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

type RedisWithHit = Redis & { rateLimitHit(key: string, windowMs: number): Promise<[number, number]> };

export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export class RateLimiter {
  private readonly redis: RedisWithHit;

  constructor(redis: Redis) {
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT });
    this.redis = redis as RedisWithHit;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const [count, ttl] = await this.redis.rateLimitHit(key, windowMs);
    return { allowed: count <= limit, limit, remaining: Math.max(0, limit - count), resetMs: ttl };
  }
}

export interface Limit {
  limit: number;
  windowMs: number;
}

/** Defaults from the Reconix rate-limit table; organisations' plans raise verify and general. */
export interface RateLimits {
  auth: Limit;
  general: Limit;
  verify: Limit;
  ndprAccess: Limit;
  ndprDeletion: Limit;
}

const MINUTE = 60_000;
export const DEFAULT_RATE_LIMITS: RateLimits = {
  auth: { limit: 5, windowMs: MINUTE },
  general: { limit: 100, windowMs: MINUTE },
  verify: { limit: 100, windowMs: MINUTE },
  ndprAccess: { limit: 10, windowMs: MINUTE },
  ndprDeletion: { limit: 2, windowMs: 60 * MINUTE },
};

export type RateScope = keyof RateLimits;

/** Which limit a request counts against, from its path; null for paths that are not limited. */
export function rateScopeOf(path: string): RateScope | null {
  if (!path.startsWith('/api/')) return null;
  if (path.startsWith('/api/v1/auth/')) return 'auth';
  if (path === '/api/v1/data-subject/delete-my-data') return 'ndprDeletion';
  if (path.startsWith('/api/v1/data-subject/'))
    return path.endsWith('/privacy-policy') ? 'general' : 'ndprAccess';
  if (path.startsWith('/api/v1/phone/api/phone-numbers/verify')) return 'verify';
  if (path.startsWith('/api/v1/health')) return null;
  return 'general';
}
