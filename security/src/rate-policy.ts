import { type Principal, reconixError, responseHeader, tirmsError } from '@hub/ingest';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { SecurityKeys } from './keys.ts';
import {
  PRINCIPAL_SCOPES,
  type RateLimiter,
  type RateLimitResult,
  type RateLimits,
  type RateScope,
} from './rate-limit.ts';
import type { AccountStore } from './store.ts';

/** Hono marks a sub-app's handler wrapped in its error handler with the original under this name. */
const COMPOSED_HANDLER = '__COMPOSED_HANDLER';

export interface Refusal {
  retryAfterSeconds: number;
  message: string;
}

/**
 * Which window a request counts against and whether it is refused (429 with Retry-After and
 * RateLimit-* headers). Only a request that reaches a route is counted: an unknown path is a 404,
 * never a 429. A route may declare its own scope with `limit(scope)` after its auth check, so a
 * per-principal scope counts the authenticated principal, not whoever sent some header.
 */
export class RatePolicy {
  private readonly declared = new WeakSet<object>();

  constructor(
    readonly limits: RateLimits,
    private readonly limiter: RateLimiter,
    private readonly store: AccountStore,
    private readonly keys: SecurityKeys,
    private readonly log: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  /** A route's own scope: counts `principal` (set by the route's auth check) or the client address. */
  limit(scope: RateScope, clientAddress: (c: Context) => string): MiddlewareHandler {
    const handler: MiddlewareHandler = async (c, next) => {
      const principal = (c.get('principal') as Principal | undefined) ?? null;
      const limited = await this.check(c, scope, principal, clientAddress(c));
      if (limited) return limited;
      await next();
    };
    this.declared.add(handler);
    return handler;
  }

  /**
   * The scope the request counts against before its route runs: none for an unrouted path (the
   * 404 answers it) or a route that declares its own, else the default for its path.
   */
  defaultScope(c: Context, byPath: (path: string) => RateScope | null): RateScope | null {
    let routed = false;
    for (const route of matchedRoutes(c)) {
      const handler = route.handler as unknown as Record<string, unknown>;
      const inner = handler[COMPOSED_HANDLER];
      if (this.declared.has(handler) || (typeof inner === 'function' && this.declared.has(inner)))
        return null;
      // Middleware registered with use() matches every method as ALL; routes name theirs (a route
      // registered with all() would count as middleware: the API has none).
      if (route.method !== 'ALL') routed = true;
    }
    return routed ? byPath(c.req.path) : null;
  }

  /** Counts one request; the refusal to send, or null to go on. */
  async check(
    c: Context,
    scope: RateScope,
    principal: Principal | null,
    clientAddress: string,
  ): Promise<Response | null> {
    let { limit } = this.limits[scope];
    const { windowMs } = this.limits[scope];
    let subject = `ip:${clientAddress}`;
    if (principal && scope !== 'auth' && scope !== 'authAccount') {
      if (PRINCIPAL_SCOPES.includes(scope)) {
        subject = principal.userId ? `user:${principal.userId}` : `key:${principal.credentialId}`;
      } else {
        subject = `org:${principal.organisation}`;
        const org = await this.store.organisation(principal.organisation);
        if (org && scope === 'verify') limit = Math.max(limit, org.verifyPerMinute);
        if (org && scope === 'general') limit = Math.max(limit, org.generalPerMinute);
      }
    }
    const result = await this.take(scope, subject, limit, windowMs);
    if (!result) return null;
    const resetSeconds = Math.max(1, Math.ceil(result.resetMs / 1000));
    responseHeader(c, 'RateLimit-Limit', String(result.limit));
    responseHeader(c, 'RateLimit-Remaining', String(result.remaining));
    responseHeader(c, 'RateLimit-Reset', String(resetSeconds));
    if (result.allowed) return null;
    responseHeader(c, 'Retry-After', String(resetSeconds));
    const message = `rate limit of ${result.limit} requests per ${windowMs / 1000} s exceeded; retry in ${resetSeconds} s`;
    return c.req.path.startsWith('/api/v1/phone/api')
      ? tirmsError(c, 'RATE_LIMITED', message)
      : reconixError(c, 'RATE_LIMITED', message);
  }

  /** Counts an attempt against one account (login, reset request); the refusal, or null. */
  async account(action: string, email: string): Promise<Refusal | null> {
    const { limit, windowMs } = this.limits.authAccount;
    const result = await this.take('authAccount', `${action}:${email}`, limit, windowMs);
    if (!result || result.allowed) return null;
    const retryAfterSeconds = Math.max(1, Math.ceil(result.resetMs / 1000));
    return {
      retryAfterSeconds,
      message: `too many attempts for this account: ${limit} per ${windowMs / 1000} s; retry in ${retryAfterSeconds} s`,
    };
  }

  private async take(
    scope: RateScope,
    subject: string,
    limit: number,
    windowMs: number,
  ): Promise<RateLimitResult | null> {
    try {
      return await this.limiter.hit(this.keys.rateLimit(scope, subject), limit, windowMs);
    } catch (err) {
      // Rate limits protect capacity; when Redis is unreachable the request path fails on its own.
      this.log('rate limiter unavailable', { error: (err as Error).message });
      return null;
    }
  }
}
