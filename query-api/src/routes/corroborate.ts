import { createRoute, z } from '@hono/zod-openapi';
import { createIdentitySources } from '@hub/identity-sources';
import { reconixErrors, requireAuth } from '@hub/ingest';
import type { MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { corroborate } from '../external/corroboration.ts';
import { msisdnField } from '../identity/http.ts';
import { auditRead, msisdnTarget, purposeField } from '../identity/read-audit.ts';

const PATH = '/api/v1/identity/corroborate';

const Difference = z.object({
  identifier: z.enum(['NIN', 'BVN', 'BVN_HOLDER_NIN']),
  masked: z.string().openapi({ example: '*******4866' }),
  hub: z.enum(['active', 'cleared', 'absent']).openapi({ description: 'What the hub holds for it' }),
  source: z.enum(['linked', 'absent', 'differs']).openapi({ description: 'What the source says' }),
  detail: z.string(),
});

const SourceVerdict = z
  .object({
    status: z.enum(['agrees', 'disagrees', 'unavailable']),
    latency_ms: z.number(),
    linked: z
      .array(z.string())
      .optional()
      .openapi({ description: 'Masked identifiers the source links to the number' }),
    differences: z.array(Difference).optional(),
    failure: z.enum(['timeout', 'network', 'http', 'circuit-open', 'bad-response']).optional(),
    reason: z.string().optional().openapi({ example: 'NIBSS did not answer in 1500 ms' }),
  })
  .openapi('SourceVerdict');

const CorroborationResponse = z
  .object({
    msisdn: z.string().openapi({ example: '+2348031234567' }),
    checked_at: z.string().openapi({ example: '2025-09-09T10:37:33.000Z' }),
    result: z.enum(['agrees', 'disagrees', 'partial', 'unavailable']).openapi({
      description:
        'disagrees when any source contradicts the hub; partial when the sources that answered agree but one is unavailable',
    }),
    hub: z.object({
      known: z.boolean(),
      lifecycle_status: z.string().nullable().openapi({ example: 'ACTIVE' }),
      active_nin_linkages: z.array(z.string()).openapi({ example: ['*******4866'] }),
      active_bvn_linkages: z.array(z.string()).openapi({ example: ['*******5678'] }),
      conflicts: z.array(z.string()).openapi({ example: [] }),
    }),
    sources: z.object({ nimc: SourceVerdict, nibss: SourceVerdict }),
    cross_check: z.object({
      status: z.enum(['agrees', 'disagrees', 'not_applicable', 'unavailable']),
      detail: z.string(),
    }),
  })
  .openapi('Corroboration');

const routeOf = (admins: MiddlewareHandler<ApiEnv>) =>
  createRoute({
    method: 'get',
    path: PATH,
    tags: ['Identity mapping'],
    summary: 'Live cross-reference of a number with NIMC and NIBSS',
    description:
      "Reads the hub's state for the number and asks NIMC (NINs linked to the phone) and NIBSS (BVNs registered with it) live. " +
      'Identifiers are compared as tokens and returned masked. A source that is slow or down makes a partial answer (still 200) naming it and why.',
    security: [{ ApiKey: [] }],
    middleware: [admins],
    request: {
      query: z.object({
        msisdn: msisdnField().openapi({
          description: '10, 11 or 13 digits, with or without +',
          example: '08031234567',
        }),
        purpose: purposeField(),
      }),
    },
    responses: {
      200: {
        description: 'Per-source verdicts',
        content: { 'application/json': { schema: CorroborationResponse } },
      },
      ...reconixErrors([400, 401, 403, 429, 503], {
        400: 'Missing or invalid msisdn',
        403: 'Not an admin (HUB) caller',
        503: 'The hub state store is unavailable',
      }),
    },
  });

/** Reconix `GET /identity/corroborate` (Admin). */
export function registerCorroborateRoutes(app: ApiApp, ctx: ApiContext): void {
  const sources = ctx.identitySources ?? createIdentitySources(ctx.config);
  // Reconix "Admin" → HUB until user roles exist: it reveals what the national sources hold.
  const route = routeOf(requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin'] }));

  app.openapi(route, async (c) => {
    const { msisdn, purpose } = c.req.valid('query');
    // A state store that cannot answer is onError's 503, as on every route.
    const view = (await ctx.readState([msisdn]))[0]?.view ?? null;
    const found = await corroborate(sources, msisdn, view, ctx.config.TOKEN_SECRET);
    auditRead(c, ctx, 'IDENTITY_CORROBORATE', {
      target: msisdnTarget(msisdn),
      operation: 'corroborate with NIMC and NIBSS',
      purpose,
      found: view !== null,
      details: { result: found.result },
    });
    const active = <T extends { clearedDate: string | null; masked: string }>(links: readonly T[]) =>
      links.filter((l) => l.clearedDate === null).map((l) => l.masked);
    return c.json(
      {
        msisdn: `+${msisdn}`,
        checked_at: new Date(ctx.now()).toISOString(),
        result: found.result,
        hub: {
          known: view !== null,
          lifecycle_status: view?.lifecycleStatus ?? null,
          active_nin_linkages: active(view?.ninLinkages ?? []),
          active_bvn_linkages: active(view?.bvnLinkages ?? []),
          conflicts: (view?.conflicts ?? []).map((x) => x.code),
        },
        sources: { nimc: found.nimc, nibss: found.nibss },
        cross_check: found.cross_check,
      },
      200,
    );
  });
}
