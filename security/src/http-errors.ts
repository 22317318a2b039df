import { reconixError, tirmsError } from '@hub/ingest';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';

/**
 * The answer to an HTTPException raised inside a route (a body that is not JSON, a body over the
 * limit): its own 4xx status in the surface's envelope instead of a 500. Null for other errors.
 */
export function httpExceptionResponse(err: unknown, c: Context): Response | null {
  if (!(err instanceof HTTPException) || err.status >= 500) return null;
  const code =
    err.status === 413
      ? 'PAYLOAD_TOO_LARGE'
      : err.status === 401
        ? 'UNAUTHORIZED'
        : err.status === 403
          ? 'FORBIDDEN'
          : err.status === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : 'MALFORMED_JSON';
  const message = err.status === 400 ? 'request body is not valid JSON' : err.message || 'request refused';
  return c.req.path.startsWith('/api/v1/phone/api')
    ? tirmsError(c, code, message)
    : reconixError(c, code, message);
}
