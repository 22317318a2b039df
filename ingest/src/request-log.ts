import { createLogger, type Logger } from '@hub/infra';
import type { Context } from 'hono';

/** For a request that reached no request-id middleware (a test's bare app): the process default. */
let fallback: Logger | null = null;

/**
 * The request's logger: the child the server's request-id middleware put on the context (it
 * carries the request id), else a default one. Log the route pattern (`c.req.routePath`), never
 * the path: a path can hold a phone number.
 */
export function requestLog(c: Context): Logger {
  const log = c.get('log') as Logger | undefined;
  if (log) return log;
  fallback ??= createLogger({ LOG_LEVEL: 'info' }, 'hub');
  return fallback;
}
