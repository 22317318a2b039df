import { createLogger, type Logger } from '@hub/infra';
import type { Context } from 'hono';

/** For a request that reached no request-id middleware (a test's bare app): the process default. */
let fallback: Logger | null = null;

/**
 * The request's logger: a child carrying the request id, made on first use from the logger the
 * server's request-id middleware put on the context (`logRoot`, beside `requestId`), or one put
 * there whole (`log`); else a default one. Log the route pattern (`c.req.routePath`), never the
 * path: a path can hold a phone number.
 */
export function requestLog(c: Context): Logger {
  const log = c.get('log') as Logger | undefined;
  if (log) return log;
  const root = c.get('logRoot') as Logger | undefined;
  if (root) {
    const child = root.child({ requestId: c.get('requestId') as string | undefined });
    c.set('log', child);
    return child;
  }
  fallback ??= createLogger({ LOG_LEVEL: 'info' }, 'hub');
  return fallback;
}
