import { createRoute, z } from '@hono/zod-openapi';
import { jsonBody, reconixErrors, requireAuth } from '@hub/ingest';
import { allocatedOperator } from '@hub/schemas';
import type { StateView } from '@hub/state';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { OperatorCoverage } from '../identity/coverage.ts';
import { dateField, msisdnField, recordUse } from '../identity/http.ts';
import {
  latestSimChangeInstant,
  MAX_AGE_DEFAULT,
  MAX_AGE_MAX,
  MAX_AGE_MIN,
  monitoredDays,
  reassignedSince,
  swappedWithin,
} from '../identity/risk.ts';

const BODY_BYTES = 16 * 1024;
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const PhoneNumber = msisdnField().openapi({
  description: 'The MSISDN: 10, 11 or 13 digits, with or without +',
  example: '+2348012345678',
});

const SwapCheckRequest = z
  .object({
    phoneNumber: PhoneNumber,
    maxAge: z
      .number({ error: `must be an integer number of hours from ${MAX_AGE_MIN} to ${MAX_AGE_MAX}` })
      .int()
      .min(MAX_AGE_MIN)
      .max(MAX_AGE_MAX)
      .nullish()
      .transform((hours) => hours ?? MAX_AGE_DEFAULT)
      .openapi({
        description: `Hours to look back, ${MAX_AGE_MIN}–${MAX_AGE_MAX}; default ${MAX_AGE_DEFAULT}`,
        example: 240,
      }),
  })
  .openapi('SimSwapCheckRequest');
const SwapCheckResponse = z
  .object({
    swapped: z.boolean().openapi({
      description:
        'True when the SIM changed (swap or reassignment) within maxAge hours. Operators report days, not times, so a change dated D counts as happening at any time on D (Lagos): the answer errs towards true.',
    }),
  })
  .openapi('SimSwapCheckResponse');
const SwapDateRequest = z.object({ phoneNumber: PhoneNumber }).openapi('SimSwapDateRequest');
const SwapDateResponse = z
  .object({
    latestSimChange: z.string().nullable().openapi({
      description:
        'The latest possible instant of the latest SIM change (end of its day in Lagos, capped at now), so an age computed from it is never overstated; null when none is known',
      example: '2025-01-14T23:59:59+01:00',
    }),
    monitoredPeriod: z.number().int().optional().openapi({
      description:
        "Only when latestSimChange is null: days of status history the hub holds from the number's operator",
      example: 120,
    }),
  })
  .openapi('SimSwapDateResponse');
const ReassignedRequest = z
  .object({
    phoneNumber: PhoneNumber,
    date: dateField().openapi({
      description: 'YYYY-MM-DD: when the caller obtained consent for the number',
      example: '2024-01-31',
    }),
  })
  .openapi('ReassignedNumberQuery');
const ReassignedResponse = z
  .object({
    result: z.enum(['yes', 'no', 'no_data']).openapi({
      description:
        "yes: churned or reassigned on or after date; no: not since date; no_data: date precedes the earliest status event the hub holds from the number's operator",
      example: 'no',
    }),
  })
  .openapi('ReassignedNumberResult');

const ERRORS = reconixErrors([400, 401, 403, 413, 415, 429, 503]);

/** The routes, declared with the caller check and the body read that run before validation. */
function routesOf(checkers: MiddlewareHandler<ApiEnv>) {
  const middleware = [checkers, jsonBody(BODY_BYTES)];
  const security = [{ ApiKey: [] }];
  const check = createRoute({
    method: 'post',
    path: '/api/v1/sim-swap/check',
    tags: ['Risk checks'],
    summary: 'Was the SIM swapped within the last maxAge hours? (CAMARA SIM Swap style)',
    description: 'One Redis read. Auth: SERVICE_PROVIDER, OPERATOR or HUB organisations.',
    security,
    middleware,
    request: { body: { content: json(SwapCheckRequest), required: true } },
    responses: { 200: { description: 'The finding', content: json(SwapCheckResponse) }, ...ERRORS },
  });
  const date = createRoute({
    method: 'post',
    path: '/api/v1/sim-swap/retrieve-date',
    tags: ['Risk checks'],
    summary: 'When did the SIM last change? (CAMARA SIM Swap style)',
    description: 'One Redis read, plus the cached per-operator coverage when no change is known.',
    security,
    middleware,
    request: { body: { content: json(SwapDateRequest), required: true } },
    responses: { 200: { description: 'The finding', content: json(SwapDateResponse) }, ...ERRORS },
  });
  const reassigned = createRoute({
    method: 'post',
    path: '/api/v1/reassigned-numbers/query',
    tags: ['Risk checks'],
    summary: 'Has the number been disconnected or reassigned since a date? (FCC Reassigned Numbers style)',
    description: 'One Redis read and the cached per-operator coverage start.',
    security,
    middleware,
    request: { body: { content: json(ReassignedRequest), required: true } },
    responses: { 200: { description: 'The finding', content: json(ReassignedResponse) }, ...ERRORS },
  });
  return { check, date, reassigned };
}

/** The operator whose reports cover the number: the serving one, else the prefix's allocation. */
const operatorOf = (msisdn: string, view: StateView | null): string | null =>
  view?.operator ?? allocatedOperator(msisdn)?.code ?? null;

/** SIM-swap and reassigned-number checks answered from the same per-number record. */
export function registerRiskCheckRoutes(app: ApiApp, ctx: ApiContext): void {
  const routes = routesOf(
    requireAuth<ApiEnv>(ctx.ingest, { roles: ['ServiceProvider', 'Operator', 'Admin', 'Analyst'] }),
  );
  const coverage = new OperatorCoverage(ctx.clickhouseRead, ctx.config.CLICKHOUSE_DATABASE, ctx.now);

  const readOne = async (c: Context<ApiEnv>, msisdn: string) => {
    const [reading] = await ctx.readState([msisdn]);
    const view = reading?.view ?? null;
    recordUse(c, ctx, 'SINGLE', [{ msisdn, view, found: view !== null }]);
    return view;
  };

  app.openapi(routes.check, async (c) => {
    const { phoneNumber, maxAge } = c.req.valid('json');
    const view = await readOne(c, phoneNumber);
    return c.json({ swapped: swappedWithin(view, maxAge, ctx.now()) }, 200);
  });

  app.openapi(routes.date, async (c) => {
    const msisdn = c.req.valid('json').phoneNumber;
    const view = await readOne(c, msisdn);
    const now = ctx.now();
    const latest = latestSimChangeInstant(view, now);
    if (latest !== null) return c.json({ latestSimChange: latest }, 200);
    // A history store that cannot answer throws HistoryUnavailableError: onError's 503.
    const earliest = await coverage.earliest(operatorOf(msisdn, view));
    return c.json({ latestSimChange: null, monitoredPeriod: monitoredDays(earliest, now) }, 200);
  });

  app.openapi(routes.reassigned, async (c) => {
    const { phoneNumber: msisdn, date } = c.req.valid('json');
    const view = await readOne(c, msisdn);
    const earliest =
      view?.recycleDate != null && view.recycleDate >= date
        ? null
        : await coverage.earliest(operatorOf(msisdn, view));
    return c.json({ result: reassignedSince(view, date, earliest) }, 200);
  });
}
