import { nodeResponse } from '@hub/ingest';
import type { MiddlewareHandler } from 'hono';

/** Hono's secureHeaders() defaults: the same headers on every response. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

/**
 * The security headers on every response. Under @hono/node-server they go straight onto Node's
 * response before the handler runs, so no response pays for a web `Headers` to carry them (Hono's
 * secureHeaders() sets them on each response's Headers, a tenth of a verification's cost);
 * elsewhere onto the response the handler returned.
 */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    const outgoing = nodeResponse(c);
    if (outgoing) for (const [name, value] of SECURITY_HEADERS) outgoing.setHeader(name, value);
    await next();
    if (!outgoing) for (const [name, value] of SECURITY_HEADERS) c.res.headers.set(name, value);
  };
}
