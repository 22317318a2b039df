import type { Context, MiddlewareHandler } from 'hono';
import type { IngestContext, IngestEnv } from './context.ts';
import { reconixError, tirmsError } from './envelope.ts';
import { requestHeader } from './node-http.ts';
import {
  actorOf,
  KEY_ROLES,
  type OrganisationType,
  type Principal,
  type Role,
  rolesOf,
} from './principal.ts';

type AuthDeps = Pick<IngestContext, 'authenticate'> & Partial<Pick<IngestContext, 'audit'>>;

const TIRMS_PREFIX = '/api/v1/phone/api';

/**
 * The caller's credentials as an `Authorization` value: the header itself, or the merchant-auth
 * document's `X-Access-Token: <token>` read as `Bearer <token>` (seed 003), so either style works
 * wherever a Bearer token does. Authorization wins when both are sent.
 */
export function credentialHeader(c: Context): string | undefined {
  const authorization = requestHeader(c, 'authorization');
  if (authorization) return authorization;
  const accessToken = requestHeader(c, 'x-access-token')?.trim();
  return accessToken ? `Bearer ${accessToken}` : undefined;
}

/** 401/403 in the envelope of the surface the request is on (TIRMS or Reconix). */
function deny(c: Context, code: 'UNAUTHORIZED' | 'FORBIDDEN', message: string) {
  return c.req.path.startsWith(TIRMS_PREFIX) ? tirmsError(c, code, message) : reconixError(c, code, message);
}

/**
 * The caller, resolved once per request: a principal set earlier in the chain (the security
 * middleware resolves it for rate limiting) is reused rather than checked again.
 */
async function resolve(c: Context, deps: AuthDeps): Promise<Principal | null> {
  const known = c.get('principal') as Principal | undefined;
  if (known) return known;
  return deps.authenticate(credentialHeader(c));
}

function auditDenial(c: Context, deps: AuthDeps, principal: Principal, reason: string): void {
  deps.audit?.record({
    actor: actorOf(principal),
    organisation: principal.organisation,
    action: 'PERMISSION_DENIED',
    target: `${c.req.method} ${c.req.path}`,
    outcome: 'DENIED',
    details: { reason },
    requestId: (c.get('requestId') as string | undefined) ?? null,
  });
}

/**
 * Resolves the caller from `Authorization: Bearer <API key or session token>` and checks its
 * organisation type. A person's session passes only with the role that organisation type's keys
 * hold (a hub Auditor or Analyst is not a hub Admin).
 */
export function requireApiKey<E extends IngestEnv = IngestEnv>(
  ctx: AuthDeps,
  allowed: OrganisationType[],
): MiddlewareHandler<E> {
  const roles = new Set(allowed.flatMap((t) => KEY_ROLES[t]));
  return async (c, next) => {
    if (!credentialHeader(c) && !c.get('principal'))
      return deny(c, 'UNAUTHORIZED', 'Authorization header is missing; send Authorization: Bearer <API key>');
    const principal = await resolve(c, ctx);
    if (!principal) return deny(c, 'UNAUTHORIZED', 'credentials are not valid (unknown, expired or revoked)');
    const typeOk = allowed.includes(principal.type);
    const roleOk = !principal.roles || principal.roles.some((r) => roles.has(r));
    if (!typeOk || !roleOk) {
      const reason = `this endpoint is for ${allowed.join(' or ')} organisations; ${principal.organisation} is ${principal.type}${principal.roles ? ` (${principal.roles.join(', ')})` : ''}`;
      auditDenial(c, ctx, principal, reason);
      return deny(c, 'FORBIDDEN', reason);
    }
    c.set('principal', principal);
    await next();
  };
}

/** Every authenticated role: the Reconix document's "Bearer". */
export const ANY_ROLE: readonly Role[] = ['Admin', 'Operator', 'Auditor', 'ServiceProvider', 'Analyst'];

/**
 * Resolves the caller (API key or session) and checks it holds one of `roles`, mapped from the
 * Auth column of the endpoint ("Bearer" is ANY_ROLE, "Admin/Operator" is ['Admin', 'Operator']).
 */
export function requireAuth<E extends IngestEnv = IngestEnv>(
  ctx: AuthDeps,
  options: { roles: readonly Role[] },
): MiddlewareHandler<E> {
  return async (c, next) => {
    if (!credentialHeader(c) && !c.get('principal'))
      return deny(
        c,
        'UNAUTHORIZED',
        'Authorization header is missing; send Authorization: Bearer <token> or X-Access-Token: <token>',
      );
    const principal = await resolve(c, ctx);
    if (!principal) return deny(c, 'UNAUTHORIZED', 'credentials are not valid (unknown, expired or revoked)');
    const held = rolesOf(principal);
    if (!held.some((r) => options.roles.includes(r))) {
      const reason = `this endpoint needs one of the roles ${options.roles.join(', ')}; the caller holds ${held.join(', ') || 'none'}`;
      auditDenial(c, ctx, principal, reason);
      return deny(c, 'FORBIDDEN', reason);
    }
    c.set('principal', principal);
    await next();
  };
}
