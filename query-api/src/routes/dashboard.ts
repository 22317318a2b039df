import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  type FieldError,
  optionalParam,
  reconixError,
  reconixErrors,
  requireAuth,
  summarise,
} from '@hub/ingest';
import { delinkStatsQueries } from '@hub/state/history/delink-queries';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import {
  DIMENSIONS,
  GRANULARITIES,
  MAX_PERIOD_DAYS,
  METRICS,
  parsePeriod,
  parseTrendParams,
  type StatsScope,
  statsQueries,
  trendQuery,
} from '../dashboard/queries.ts';
import { historyDayField, queryRows } from '../identity/http.ts';

const Count = z.object({ key: z.string(), value: z.number() });
const PairCount = z.object({ key: z.string(), key2: z.string(), value: z.number() });

const Stats = z
  .object({
    period: z
      .object({ from: z.string(), to: z.string() })
      .nullable()
      .openapi({ description: 'Applies to the event volumes; null = all time' }),
    numbers_by_lifecycle_status: z
      .array(Count)
      .optional()
      .openapi({
        description: 'Current lifecycle status of every number the hub tracks',
        example: [{ key: 'ACTIVE', value: 17540 }],
      }),
    conflicts_by_code: z
      .array(Count)
      .optional()
      .openapi({
        description: 'Numbers currently carrying each conflict',
        example: [{ key: 'STALE_LINKAGE', value: 812 }],
      }),
    status_events: z
      .array(PairCount)
      .optional()
      .openapi({
        description: 'Distinct status events: key = operator, key2 = status',
        example: [{ key: 'MTN', key2: 'CHURNED', value: 66 }],
      }),
    verifications: z.array(PairCount).openapi({
      description: "Distinct verification calls: key = organisation ('' when hidden), key2 = VERIFIED/FAILED",
      example: [{ key: 'Bank A', key2: 'VERIFIED', value: 120 }],
    }),
    delink_open_requests: z
      .array(PairCount)
      .optional()
      .openapi({
        description: 'Open delink requests: key = state, key2 = operator',
        example: [{ key: 'PENDING', key2: 'MTN', value: 4 }],
      }),
    delink_detection_to_cleared: z
      .object({
        numbers: z.number(),
        avg_seconds: z.number().nullable(),
        p50_seconds: z.number().nullable(),
        p90_seconds: z.number().nullable(),
      })
      .optional()
      .openapi({
        description: 'Recycled numbers cleared: time from detection (or registration) to cleanup completed',
      }),
    delink_failure_reasons: z
      .array(Count)
      .optional()
      .openapi({
        description: "Failed delink attempts by the source's reason",
        example: [{ key: 'NIMC: linkage is under a legal hold', value: 1 }],
      }),
  })
  .openapi('DashboardStats');

const TrendPoint = z.object({
  bucket: z.string().openapi({
    description:
      'Start of the bucket: YYYY-MM-DD, the Monday of a week, the 1st of a month, or YYYY-MM-DDTHH:00:00Z',
    example: '2025-01-06',
  }),
  key: z
    .string()
    .nullable()
    .openapi({ description: 'The dimension value; null without a dimension', example: 'MTN' }),
  value: z.number().openapi({ description: 'Distinct events; for reporting_lag the mean lag in days' }),
  events: z.number().optional().openapi({ description: 'reporting_lag: status events in the bucket' }),
  p50: z.number().optional(),
  p90: z.number().optional(),
});

const Trends = z
  .object({
    metric: z.enum(METRICS),
    granularity: z.enum(GRANULARITIES),
    dimension: z.enum(DIMENSIONS).nullable(),
    from: z.string(),
    to: z.string(),
    points: z.array(TrendPoint),
  })
  .openapi('DashboardTrends');

const ERRORS = reconixErrors([400, 401, 403, 429, 503], {
  403: 'The caller may not see this metric or dimension',
  503: 'ClickHouse is unavailable',
});

const dateParam = (name: string) =>
  optionalParam(historyDayField()).openapi({
    description: `${name} date, YYYY-MM-DD (UTC, inclusive)`,
    example: name === 'First' ? '2025-01-01' : '2025-01-31',
  });

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  optionalParam(z.enum(values, { error: `must be one of ${values.join(', ')}` }));

const routesOf = (readers: MiddlewareHandler<ApiEnv>) => {
  const statsRoute = createRoute({
    method: 'get',
    path: '/api/v1/dashboard/stats',
    tags: ['Dashboard'],
    summary: 'Aggregated statistics',
    description:
      'Numbers by lifecycle status and conflicts by code (current state), status events by operator and status, verification volumes. ' +
      'Read from ClickHouse (the read replica when configured). Service providers see their own verification volumes only; operators see verification totals without organisations.',
    security: [{ ApiKey: [] }],
    middleware: [readers],
    request: { query: z.object({ from: dateParam('First'), to: dateParam('Last') }) },
    responses: {
      200: { description: 'Statistics', content: { 'application/json': { schema: Stats } } },
      ...ERRORS,
    },
  });

  const trendsRoute = createRoute({
    method: 'get',
    path: '/api/v1/dashboard/trends',
    tags: ['Dashboard'],
    summary: 'Trends over a configurable period',
    description:
      'One series per dimension value from the rollups (hourly rollup for hour, daily for day/week/month). Counts are distinct events. ' +
      `Longest period: ${Object.entries(MAX_PERIOD_DAYS)
        .map(([g, d]) => `${d} days by ${g}`)
        .join(', ')}. Default: the last 30 days by day.`,
    security: [{ ApiKey: [] }],
    middleware: [readers],
    request: {
      query: z.object({
        from: dateParam('First'),
        to: dateParam('Last'),
        granularity: oneOf(GRANULARITIES).openapi({ example: 'day' }),
        metric: oneOf(METRICS).openapi({
          description:
            'reporting_lag = received date − occurrence date of status events, per operator, by received date',
          example: 'status_events',
        }),
        dimension: oneOf(DIMENSIONS).openapi({
          description:
            'status_events: operator, status; state_changes: lifecycle_status; conflicts: conflict_code; verifications: organisation, status; reporting_lag: operator',
          example: 'operator',
        }),
      }),
    },
    responses: {
      200: { description: 'Series', content: { 'application/json': { schema: Trends } } },
      ...ERRORS,
    },
  });

  return { statsRoute, trendsRoute };
};

const today = (ctx: ApiContext) => new Date(ctx.now()).toISOString().slice(0, 10);

const rows = (client: ApiContext['clickhouseRead'], query: string) =>
  queryRows<Record<string, string | number>>(client, query);

/** The 400 for rules across parameters (a period too long for its granularity, …). */
const invalid = (c: Context, errs: FieldError[]) =>
  reconixError(c, 'VALIDATION_ERROR', summarise(errs), errs);

/** Reconix dashboard: stats and trends from the ClickHouse rollups. */
export function registerDashboardRoutes(app: ApiApp, ctx: ApiContext): void {
  // Reconix "Bearer": any role; what each organisation type sees is scoped below.
  const { statsRoute, trendsRoute } = routesOf(requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE }));
  const db = ctx.config.CLICKHOUSE_DATABASE;

  app.openapi(statsRoute, async (c) => {
    const errs: FieldError[] = [];
    const period = parsePeriod(c.req.valid('query'), today(ctx), errs, Number.MAX_SAFE_INTEGER, true);
    if (errs.length > 0) return invalid(c, errs);
    const principal = c.get('principal');
    const scope: StatsScope =
      principal.type === 'SERVICE_PROVIDER'
        ? { organisation: principal.organisation }
        : { hideOrganisations: principal.type === 'OPERATOR' };
    const q = statsQueries(db, period, scope);
    const count = (r: Record<string, string | number>) => ({ key: String(r.key), value: Number(r.value) });
    const pair = (r: Record<string, string | number>) => ({ ...count(r), key2: String(r.key2) });
    // A history store that cannot answer throws HistoryUnavailableError: onError's 503.
    const verifications = (await rows(ctx.clickhouseRead, q.verifications)).map(pair);
    // A service provider sees its own verification volumes and nothing of the national picture.
    if (principal.type === 'SERVICE_PROVIDER') return c.json({ period, verifications }, 200);
    const dq = delinkStatsQueries(db);
    const [lifecycle, conflicts, statusEvents, openDelinks, cleared, failures] = await Promise.all([
      rows(ctx.clickhouseRead, q.numbersByLifecycle),
      rows(ctx.clickhouseRead, q.conflictsByCode),
      rows(ctx.clickhouseRead, q.statusEvents),
      rows(ctx.clickhouseRead, dq.openByStateAndOperator),
      rows(ctx.clickhouseRead, dq.detectionToCleared),
      rows(ctx.clickhouseRead, dq.failureReasons),
    ]);
    const num = (v: string | number | undefined) =>
      v === undefined || Number.isNaN(Number(v)) ? null : Number(v);
    const c0 = cleared[0] ?? {};
    return c.json(
      {
        period,
        numbers_by_lifecycle_status: lifecycle.map(count),
        conflicts_by_code: conflicts.map(count),
        status_events: statusEvents.map(pair),
        verifications,
        delink_open_requests: openDelinks.map(pair),
        delink_detection_to_cleared: {
          numbers: Number(c0.numbers ?? 0),
          avg_seconds: Number(c0.numbers ?? 0) > 0 ? num(c0.avg_seconds) : null,
          p50_seconds: Number(c0.numbers ?? 0) > 0 ? num(c0.p50_seconds) : null,
          p90_seconds: Number(c0.numbers ?? 0) > 0 ? num(c0.p90_seconds) : null,
        },
        delink_failure_reasons: failures.map(count),
      },
      200,
    );
  });

  app.openapi(trendsRoute, async (c) => {
    const parsed = parseTrendParams(c.req.valid('query'), today(ctx));
    if (!parsed.ok) return invalid(c, parsed.errors);
    const p = parsed.value;
    const principal = c.get('principal');
    if (principal.type === 'OPERATOR' && p.dimension === 'organisation') {
      return reconixError(
        c,
        'FORBIDDEN',
        'dimension: operators may not split verifications by organisation',
        [{ field: 'dimension', message: 'not available to operators' }],
      );
    }
    const sql = trendQuery(
      db,
      p,
      // Network-wide trends are open to every role; verification volumes are a bank's own only.
      principal.type === 'SERVICE_PROVIDER' && p.metric === 'verifications'
        ? { organisation: principal.organisation }
        : {},
    );
    const found = await rows(ctx.clickhouseRead, sql);
    const points = found.map((r) => ({
      bucket: p.granularity === 'hour' ? `${String(r.bucket).replace(' ', 'T')}Z` : String(r.bucket),
      key: p.dimension === null ? null : String(r.key),
      value: Number(r.value),
      ...(p.metric === 'reporting_lag'
        ? { events: Number(r.events), p50: Number(r.p50), p90: Number(r.p90) }
        : {}),
    }));
    return c.json(
      {
        metric: p.metric,
        granularity: p.granularity,
        dimension: p.dimension,
        from: p.from,
        to: p.to,
        points,
      },
      200,
    );
  });
}
