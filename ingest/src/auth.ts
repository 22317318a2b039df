import type { MiddlewareHandler } from 'hono';
import type { IngestContext, IngestEnv } from './context.ts';
import { tirmsError } from './envelope.ts';
import type { OrganisationType } from './principal.ts';

/** Resolves the caller from `Authorization: Bearer <API key>` and checks its organisation type. */
export function requireApiKey<E extends IngestEnv = IngestEnv>(
  ctx: Pick<IngestContext, 'authenticate'>,
  allowed: OrganisationType[],
): MiddlewareHandler<E> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header)
      return tirmsError(
        c,
        'UNAUTHORIZED',
        'Authorization header is missing; send Authorization: Bearer <API key>',
      );
    const principal = await ctx.authenticate(header);
    if (!principal) return tirmsError(c, 'UNAUTHORIZED', 'API key is not valid');
    if (!allowed.includes(principal.type)) {
      return tirmsError(
        c,
        'FORBIDDEN',
        `this endpoint is for ${allowed.join(' or ')} organisations; ${principal.organisation} is ${principal.type}`,
      );
    }
    c.set('principal', principal);
    await next();
  };
}
