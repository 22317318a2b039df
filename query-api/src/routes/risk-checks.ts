import { createRoute, z } from '@hono/zod-openapi';
import { type FieldError, readJsonBody, reconixError, requireAuth } from '@hub/ingest';
import { allocatedOperator, checkDate } from '@hub/schemas';
import type { StateView } from '@hub/state';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { OperatorCoverage } from '../identity/coverage.ts';
import {
  asObject,
  checkMsisdn,
  errorResponses,
  fieldErrors,
  historyUnavailable,
  recordUse,
} from '../identity/http.ts';
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

const PhoneNumber = z.string().openapi({
  description: 'The MSISDN: 10, 11 or 13 digits, with or without +',
  example: '+2348012345678',
});

const SwapCheckRequest = z
  .object({
    phoneNumber: PhoneNumber,
    maxAge: z
      .number()
      .int()
      .min(MAX_AGE_MIN)
      .max(MAX_AGE_MAX)
      .optional()
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
    date: z.string().openapi({
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

const checkRoute = createRoute({
  method: 'post',
  path: '/api/v1/sim-swap/check',
  tags: ['Risk checks'],
  summary: 'Was the SIM swapped within the last maxAge hours? (CAMARA SIM Swap style)',
  description: 'One Redis read. Auth: SERVICE_PROVIDER, OPERATOR or HUB organisations.',
  security: [{ ApiKey: [] }],
  request: { body: { content: json(SwapCheckRequest), required: true } },
  responses: { 200: { description: 'The finding', content: json(SwapCheckResponse) }, ...errorResponses },
});
const dateRoute = createRoute({
  method: 'post',
  path: '/api/v1/sim-swap/retrieve-date',
  tags: ['Risk checks'],
  summary: 'When did the SIM last change? (CAMARA SIM Swap style)',
  description: 'One Redis read, plus the cached per-operator coverage when no change is known.',
  security: [{ ApiKey: [] }],
  request: { body: { content: json(SwapDateRequest), required: true } },
  responses: { 200: { description: 'The finding', content: json(SwapDateResponse) }, ...errorResponses },
});
const reassignedRoute = createRoute({
  method: 'post',
  path: '/api/v1/reassigned-numbers/query',
  tags: ['Risk checks'],
  summary: 'Has the number been disconnected or reassigned since a date? (FCC Reassigned Numbers style)',
  description: 'One Redis read and the cached per-operator coverage start.',
  security: [{ ApiKey: [] }],
  request: { body: { content: json(ReassignedRequest), required: true } },
  responses: { 200: { description: 'The finding', content: json(ReassignedResponse) }, ...errorResponses },
});

type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

async function parseBody<T>(
  c: Context<ApiEnv>,
  parse: (body: Record<string, unknown>) => Parsed<T>,
): Promise<{ ok: true; value: T } | { ok: false; response: Response }> {
  const body = await readJsonBody(c, BODY_BYTES);
  if (!body.ok) return { ok: false, response: reconixError(c, body.code, body.message, body.errors) };
  const obj = asObject(body.value);
  if (!obj)
    return { ok: false, response: fieldErrors(c, [{ field: 'body', message: 'must be a JSON object' }]) };
  const parsed = parse(obj);
  return parsed.ok ? parsed : { ok: false, response: fieldErrors(c, parsed.errors) };
}

function parseMaxAge(raw: unknown): Parsed<number> {
  if (raw === undefined || raw === null) return { ok: true, value: MAX_AGE_DEFAULT };
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < MAX_AGE_MIN || raw > MAX_AGE_MAX) {
    return {
      ok: false,
      errors: [
        {
          field: 'maxAge',
          message: `must be an integer number of hours from ${MAX_AGE_MIN} to ${MAX_AGE_MAX}`,
        },
      ],
    };
  }
  return { ok: true, value: raw };
}

/** The operator whose reports cover the number: the serving one, else the prefix's allocation. */
const operatorOf = (msisdn: string, view: StateView | null): string | null =>
  view?.operator ?? allocatedOperator(msisdn)?.code ?? null;

/** SIM-swap and reassigned-number checks answered from the same per-number record. */
export function registerRiskCheckRoutes(app: ApiApp, ctx: ApiContext): void {
  for (const route of [checkRoute, dateRoute, reassignedRoute]) app.openAPIRegistry.registerPath(route);
  const checkers = requireAuth<ApiEnv>(ctx.ingest, {
    roles: ['ServiceProvider', 'Operator', 'Admin', 'Analyst'],
  });
  const coverage = new OperatorCoverage(ctx.clickhouseRead, ctx.config.CLICKHOUSE_DATABASE, ctx.now);

  const readOne = async (c: Context<ApiEnv>, msisdn: string) => {
    const [reading] = await ctx.readState([msisdn]);
    const view = reading?.view ?? null;
    recordUse(c, ctx, 'SINGLE', [{ msisdn, view, found: view !== null }]);
    return view;
  };

  app.post(checkRoute.path, checkers, async (c) => {
    const parsed = await parseBody(c, (body) => {
      const number = checkMsisdn(body.phoneNumber, 'phoneNumber');
      const maxAge = parseMaxAge(body.maxAge);
      const errors = [...(number.ok ? [] : [number.error]), ...(maxAge.ok ? [] : maxAge.errors)];
      return number.ok && maxAge.ok
        ? { ok: true, value: { msisdn: number.value, maxAge: maxAge.value } }
        : { ok: false, errors };
    });
    if (!parsed.ok) return parsed.response;
    const view = await readOne(c, parsed.value.msisdn);
    return c.json({ swapped: swappedWithin(view, parsed.value.maxAge, ctx.now()) }, 200);
  });

  app.post(dateRoute.path, checkers, async (c) => {
    const parsed = await parseBody(c, (body) => {
      const number = checkMsisdn(body.phoneNumber, 'phoneNumber');
      return number.ok ? { ok: true, value: number.value } : { ok: false, errors: [number.error] };
    });
    if (!parsed.ok) return parsed.response;
    const msisdn = parsed.value;
    const view = await readOne(c, msisdn);
    const now = ctx.now();
    const latest = latestSimChangeInstant(view, now);
    if (latest !== null) return c.json({ latestSimChange: latest }, 200);
    try {
      const earliest = await coverage.earliest(operatorOf(msisdn, view));
      return c.json({ latestSimChange: null, monitoredPeriod: monitoredDays(earliest, now) }, 200);
    } catch (err) {
      return historyUnavailable(c, err);
    }
  });

  app.post(reassignedRoute.path, checkers, async (c) => {
    const parsed = await parseBody(c, (body) => {
      const number = checkMsisdn(body.phoneNumber, 'phoneNumber');
      const date = body.date === undefined ? null : checkDate(body.date);
      const errors: FieldError[] = number.ok ? [] : [number.error];
      if (date === null) errors.push({ field: 'date', message: 'is required' });
      else if (!date.ok) errors.push({ field: 'date', message: date.reason });
      return number.ok && date?.ok
        ? { ok: true, value: { msisdn: number.value, date: date.date } }
        : { ok: false, errors };
    });
    if (!parsed.ok) return parsed.response;
    const { msisdn, date } = parsed.value;
    const view = await readOne(c, msisdn);
    try {
      const earliest =
        view?.recycleDate != null && view.recycleDate >= date
          ? null
          : await coverage.earliest(operatorOf(msisdn, view));
      return c.json({ result: reassignedSince(view, date, earliest) }, 200);
    } catch (err) {
      return historyUnavailable(c, err);
    }
  });
}
