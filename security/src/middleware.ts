import { getConnInfo } from '@hono/node-server/conninfo';
import {
  type Authenticator,
  credentialHeader,
  type IngestEnv,
  reconixError,
  requestHeader,
  tirmsError,
  unavailableResponse,
} from '@hub/ingest';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { TrustedProxies } from './client-address.ts';
import { AccountsUnavailableError } from './credentials.ts';
import { rateScopeOf } from './rate-limit.ts';
import type { RatePolicy } from './rate-policy.ts';

/** Request bodies outside the bulk routes; bulk routes read theirs with their own, larger limit. */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_BULK_BODY_BYTES = 64 * 1024 * 1024;
/** The bulk routes (`…/bulk`, `…/upload/bulk`) and the webhook receiver, as one test per request. */
const BULK_PATH = /\/bulk$|\/upload\/bulk$|^\/api\/v1\/webhooks\/receive$/;

export interface RequestMeta {
  ip: string | null;
  requestId: string | null;
}

/** The client address the security middleware resolved for a request (trusted proxies applied). */
const resolvedAddresses = new WeakMap<Request, string>();

/** The socket's address; requests handed to the app in-process (tests) have none. */
function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address ?? undefined;
  } catch {
    return 'in-process';
  }
}

/**
 * The client's address: the one the security middleware resolved (X-Forwarded-For believed only
 * from a trusted proxy), else the socket's.
 */
export function clientIp(c: Context): string {
  return resolvedAddresses.get(c.req.raw) ?? socketAddress(c) ?? 'unknown';
}

export function requestMeta(c: Context): RequestMeta {
  return { ip: clientIp(c), requestId: (c.get('requestId') as string | undefined) ?? null };
}

function tooLarge(c: Context, max: number) {
  const message = `request body exceeds ${max} bytes`;
  return c.req.path.startsWith('/api/v1/phone/api')
    ? tirmsError(c, 'PAYLOAD_TOO_LARGE', message)
    : reconixError(c, 'PAYLOAD_TOO_LARGE', message);
}

export interface MiddlewareDeps {
  authenticate: Authenticator;
  policy: RatePolicy;
  proxies: TrustedProxies;
}

/**
 * Runs before every route: resolves the client's address (trusted proxies), limits the body size
 * (413), resolves the caller when credentials are sent (routes still decide who may pass), and
 * counts a routed request against its path's default rate limit unless the route declares its own.
 */
export function securityMiddleware<E extends IngestEnv>(deps: MiddlewareDeps): MiddlewareHandler<E> {
  const small = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => tooLarge(c, MAX_BODY_BYTES) });
  const bulk = bodyLimit({
    maxSize: MAX_BULK_BODY_BYTES,
    onError: (c) => tooLarge(c, MAX_BULK_BODY_BYTES),
  });
  return async (c, next) => {
    const address = deps.proxies.clientAddress(socketAddress(c), requestHeader(c, 'x-forwarded-for'));
    resolvedAddresses.set(c.req.raw, address);
    const apiKeyHeader = requestHeader(c, 'x-api-key');
    const bearer = credentialHeader(c);
    const authorization = bearer ?? (apiKeyHeader ? `Bearer ${apiKeyHeader}` : undefined);
    let principal = null;
    try {
      principal = authorization ? await deps.authenticate(authorization) : null;
    } catch (err) {
      // Refused with 503 and Retry-After through the one shared helper, never let through.
      const refused = err instanceof AccountsUnavailableError ? unavailableResponse(c, err) : null;
      if (refused) return refused;
      throw err;
    }
    if (principal && bearer) c.set('principal', principal);
    const scope = deps.policy.defaultScope(c, rateScopeOf);
    if (scope) {
      const limited = await deps.policy.check(c, scope, principal, address);
      if (limited) return limited;
    }
    const bulkPath = BULK_PATH.test(c.req.path);
    // A declared Content-Length bounds the body (Node's parser enforces the framing), so only a
    // body of unknown length (chunked) needs the streaming limit; GET and HEAD skip it.
    const declared = requestHeader(c, 'content-length');
    if (declared !== undefined) {
      const max = bulkPath ? MAX_BULK_BODY_BYTES : MAX_BODY_BYTES;
      return Number(declared) > max ? tooLarge(c, max) : next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    return (bulkPath ? bulk : small)(c, next);
  };
}
