import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  checkItem,
  itemsOf,
  jsonBody,
  optionalParam,
  reconixError,
  reconixErrors,
  requireAuth,
} from '@hub/ingest';
import { todayInLagos } from '@hub/schemas';
import { CONFLICT_CODES, type StateView } from '@hub/state';
import type { MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { REASON_CODES } from '../identity/confidence.ts';
import { msisdnField, queryRows, recordUse } from '../identity/http.ts';
import { bvnLinkageOut, linkageOut, mappingOf, plusForm, statusOf } from '../identity/mapping.ts';
import { auditRead, msisdnTarget } from '../identity/read-audit.ts';
import { conflictsCountQuery, conflictsPageQuery, linkageEventsQuery } from '../identity/sql.ts';
import { PageQuery, pageOf } from '../pagination.ts';

const BASE = '/api/v1/identity';
export const MAX_BATCH_LOOKUP = 100;
const BODY_BYTES = 64 * 1024;

const NumberParam = z.object({
  number: msisdnField().openapi({
    param: { name: 'number', in: 'path' },
    description: 'The MSISDN: 10, 11 or 13 digits, with or without +',
    example: '+2348012345678',
  }),
});

const MsisdnStatus = z
  .object({
    msisdn: z.string().openapi({ example: '+2348012345678' }),
    status: z
      .enum(['ACTIVE', 'RECYCLED', 'CONFLICTED', 'BLOCKED', 'AVAILABLE'])
      .openapi({ example: 'CONFLICTED' }),
    is_recycled: z.boolean().openapi({ example: true }),
    active_nin_linkages: z.number().int().openapi({ example: 1 }),
    active_bvn_linkages: z.number().int().openapi({ example: 1 }),
    can_assign_to_new_user: z.boolean().openapi({
      description: 'True only when every old NIN/BVN linkage of a recycled number has been cleared',
      example: false,
    }),
    cleanup_status: z
      .enum(['pending', 'in_progress', 'completed', 'not_required'])
      .openapi({ example: 'pending' }),
    operator_code: z.string().nullable().openapi({ example: 'MTN' }),
  })
  .openapi('MsisdnStatus');

const Linkage = z
  .object({
    masked: z.string().openapi({ example: '*******1234' }),
    link_date: z.string().openapi({ example: '2021-03-04' }),
    active: z.boolean(),
    cleared_date: z.string().nullable().openapi({ example: null }),
    old_owner: z.boolean().openapi({ description: "Linked before the number's last churn or reassignment" }),
    stale: z.boolean().openapi({ description: "Active and a previous owner's" }),
  })
  .openapi('Linkage');
const BvnLinkage = Linkage.extend({
  holder_nin_matches: z.boolean().nullable().openapi({
    description: "Whether NIBSS's BVN holder NIN is among the number's active NINs; null when not sent",
  }),
}).openapi('BvnLinkage');

const LinkageEvent = z
  .object({
    event_id: z.string(),
    action: z.enum(['LINK', 'UNLINK']),
    masked: z.string().openapi({ example: '*******1234' }),
    link_date: z.string().openapi({ example: '2021-03-04' }),
    occurred_at: z.string().openapi({ description: 'UTC', example: '2021-03-04 10:00:00' }),
    source: z.string().openapi({ example: 'NIMC' }),
  })
  .openapi('LinkageEvent');
const BvnLinkageEvent = LinkageEvent.extend({
  bank_code: z.string().nullable().openapi({ example: '058' }),
  nuban_masked: z.string().nullable().openapi({ example: '******2453' }),
}).openapi('BvnLinkageEvent');

const LinkageHistory = z
  .object({
    msisdn: z.string().openapi({ example: '+2348012345678' }),
    recycle_date: z.string().nullable().openapi({ description: 'Last churn or reassignment', example: null }),
    nin: z.object({ linkages: z.array(Linkage), events: z.array(LinkageEvent) }),
    bvn: z.object({ linkages: z.array(BvnLinkage), events: z.array(BvnLinkageEvent) }),
  })
  .openapi('LinkageHistory');

const Reason = z
  .object({
    code: z.enum(REASON_CODES as [string, ...string[]]).openapi({ example: 'SOURCES_AGREE' }),
    weight: z.number().openapi({ description: 'Added to the base score of 0.7', example: 0.3 }),
    detail: z.string(),
  })
  .openapi('ConfidenceReason');
const Conflict = z
  .object({
    code: z.enum(CONFLICT_CODES).openapi({ example: 'STALE_LINKAGE' }),
    since: z.string().openapi({ example: '2024-05-01' }),
  })
  .openapi('Conflict');

const IdentityMapping = z
  .object({
    msisdn: z.string().openapi({ example: '+2348012345678' }),
    operator_code: z.string().nullable().openapi({ example: 'MTN' }),
    telecom_status: z.string().nullable().openapi({ example: 'NORMAL' }),
    status_date: z.string().nullable(),
    lifecycle_status: MsisdnStatus.shape.status,
    is_recycled: z.boolean(),
    recycle_date: z.string().nullable(),
    last_swapped_date: z.string().nullable(),
    last_churned_date: z.string().nullable(),
    last_reassigned_date: z.string().nullable(),
    can_assign_to_new_user: z.boolean(),
    cleanup_status: MsisdnStatus.shape.cleanup_status,
    nin_linkages: z.array(Linkage).openapi({ description: 'Active NIN linkages' }),
    bvn_linkages: z.array(BvnLinkage).openapi({ description: 'Active BVN linkages' }),
    conflicts: z.array(Conflict),
    confidence: z.number().min(0).max(1).openapi({
      description: 'Base 0.7 plus the weights of the reasons, clamped to [0, 1]',
      example: 1,
    }),
    reasons: z.array(Reason),
  })
  .openapi('IdentityMapping');

const BatchLookupRequest = z
  .object({
    msisdns: itemsOf(
      { type: 'string', description: '10, 11 or 13 digits, with or without +' },
      {
        min: 1,
        max: MAX_BATCH_LOOKUP,
        tooFew: 'must contain at least one number',
        tooMany: (n) => `has ${n} numbers; at most ${MAX_BATCH_LOOKUP} per request`,
      },
    ).openapi({ example: ['08012345678', '+2348031234567'] }),
  })
  .openapi('BatchLookupRequest');
const BatchItem = msisdnField();
const BatchLookupItem = z
  .object({
    input: z.unknown().openapi({ description: 'The number as submitted' }),
    found: z.boolean(),
    mapping: IdentityMapping.nullable(),
    error: z.object({ code: z.enum(['VALIDATION_ERROR', 'NOT_FOUND']), detail: z.string() }).nullable(),
  })
  .openapi('BatchLookupItem');
const BatchLookupResponse = z
  .object({ items: z.array(BatchLookupItem), total: z.number().int() })
  .openapi('BatchLookupResponse');

const ConflictItem = z
  .object({
    msisdn: z.string().openapi({ example: '+2348012345678' }),
    lifecycle_status: z.string().openapi({ example: 'CONFLICTED' }),
    operator_code: z.string().nullable().openapi({ example: 'MTN' }),
    conflicts: z.array(Conflict),
  })
  .openapi('ConflictItem');
const ConflictPage = pageOf(ConflictItem).openapi('ConflictPage');

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const ERRORS = reconixErrors([400, 401, 403, 413, 415, 429, 503]);
const ERRORS_404 = reconixErrors([400, 401, 403, 404, 429, 503], {
  404: 'The hub holds nothing about it',
});

type Auth = Record<'anyone' | 'adminOrOperator' | 'adminOrAuditor', MiddlewareHandler<ApiEnv>>;

/** The routes, declared with the caller checks (and body read) that run before validation. */
function routesOf(auth: Auth) {
  const status = createRoute({
    method: 'get',
    path: `${BASE}/msisdn/{number}/status`,
    tags: ['Identity mapping'],
    summary: 'MSISDN lifecycle status and assignment readiness',
    description: 'One Redis read. Auth: any authenticated organisation (Reconix "Bearer").',
    security: [{ ApiKey: [] }],
    middleware: [auth.anyone],
    request: { params: NumberParam },
    responses: {
      200: { description: 'The status', content: json(MsisdnStatus) },
      ...ERRORS_404,
    },
  });

  const linkages = createRoute({
    method: 'get',
    path: `${BASE}/msisdn/{number}/linkages`,
    tags: ['Identity mapping'],
    summary: 'Full NIN/BVN linkage history of an MSISDN, masked',
    description:
      'Current linkages from the live state; every link/unlink event from history, one per event id. Identifiers are masked; no tokens are returned. Auth: any authenticated organisation.',
    security: [{ ApiKey: [] }],
    middleware: [auth.anyone],
    request: { params: NumberParam },
    responses: {
      200: { description: 'Linkages and their events', content: json(LinkageHistory) },
      ...ERRORS_404,
    },
  });

  const lookup = createRoute({
    method: 'get',
    path: `${BASE}/lookup`,
    tags: ['Identity mapping'],
    summary: 'Unified identity mapping with a confidence score and its reasons',
    description: 'One Redis read. Auth: any authenticated organisation.',
    security: [{ ApiKey: [] }],
    middleware: [auth.anyone],
    request: {
      query: z.object({ msisdn: msisdnField().openapi({ example: '08012345678' }) }),
    },
    responses: {
      200: { description: 'The mapping', content: json(IdentityMapping) },
      ...ERRORS_404,
    },
  });

  const batch = createRoute({
    method: 'post',
    path: `${BASE}/batch-lookup`,
    tags: ['Identity mapping'],
    summary: `Identity mapping of up to ${MAX_BATCH_LOOKUP} MSISDNs`,
    description:
      'One Redis round trip for all numbers. Invalid or unknown numbers are per-item errors, in input order. Auth: Reconix "Admin/Operator" → HUB or OPERATOR organisations.',
    security: [{ ApiKey: [] }],
    middleware: [auth.adminOrOperator, jsonBody(BODY_BYTES)],
    request: { body: { content: json(BatchLookupRequest), required: true } },
    responses: {
      200: { description: 'One item per submitted number', content: json(BatchLookupResponse) },
      ...ERRORS,
    },
  });

  const conflicts = createRoute({
    method: 'get',
    path: `${BASE}/conflicts`,
    tags: ['Identity mapping'],
    summary: 'MSISDNs whose latest state has conflicting data across sources',
    description:
      'From the state-change history: the latest state per number (highest version), kept when its conflicts are non-empty. Auth: Reconix "Admin/Auditor" → HUB organisations.',
    security: [{ ApiKey: [] }],
    middleware: [auth.adminOrAuditor],
    request: {
      query: z.object({
        ...PageQuery,
        code: optionalParam(
          z.enum(CONFLICT_CODES, { error: `must be one of ${CONFLICT_CODES.join(', ')}` }),
        ).openapi({ description: 'Only numbers with this conflict' }),
      }),
    },
    responses: {
      200: { description: 'A page of conflicted numbers', content: json(ConflictPage) },
      ...ERRORS,
    },
  });
  return { status, linkages, lookup, batch, conflicts };
}

interface LinkageEventRow {
  event_id: string;
  source: string;
  action: 'LINK' | 'UNLINK';
  nin_masked?: string;
  bvn_masked?: string;
  link_date: string;
  occurred_at: string;
  bank_code?: string | null;
  nuban_masked?: string | null;
}

interface ConflictRow {
  msisdn: string;
  lifecycle_status: string;
  operator: string | null;
  conflict_codes: string[];
  conflict_since: string[];
}

/** Reconix identity mapping: status, linkage history, unified lookup, batch lookup, conflicts. */
export function registerIdentityRoutes(app: ApiApp, ctx: ApiContext): void {
  // The Auth column of seeds/000: "Bearer" is any role, "Admin/Operator", "Admin/Auditor".
  const routes = routesOf({
    anyone: requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE }),
    adminOrOperator: requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator'] }),
    adminOrAuditor: requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Auditor'] }),
  });
  const today = () => todayInLagos(ctx.now());

  app.openapi(routes.status, async (c) => {
    const msisdn = c.req.valid('param').number;
    const [reading] = await ctx.readState([msisdn]);
    const view = reading?.view ?? null;
    recordUse(c, ctx, 'LOOKUP', [{ msisdn, view, found: view !== null }]);
    if (!view) return reconixError(c, 'NOT_FOUND', `number: the hub holds nothing about ${plusForm(msisdn)}`);
    return c.json(statusOf(view), 200);
  });

  app.openapi(routes.linkages, async (c) => {
    const msisdn = c.req.valid('param').number;
    const db = ctx.config.CLICKHOUSE_DATABASE;
    // A history store that cannot answer throws HistoryUnavailableError: onError's 503.
    const [ninRows, bvnRows, view] = await Promise.all([
      queryRows<LinkageEventRow>(ctx.clickhouse, linkageEventsQuery(db, 'NIN', msisdn)),
      queryRows<LinkageEventRow>(ctx.clickhouse, linkageEventsQuery(db, 'BVN', msisdn)),
      ctx.readState([msisdn]).then((r): StateView | null => r[0]?.view ?? null),
    ]);
    const found = view !== null || ninRows.length > 0 || bvnRows.length > 0;
    recordUse(c, ctx, 'LOOKUP', [{ msisdn, view, found }]);
    auditRead(c, ctx, 'IDENTITY_LOOKUP', {
      target: msisdnTarget(msisdn),
      operation: 'linkages of a number',
      found,
    });
    if (!found)
      return reconixError(c, 'NOT_FOUND', `number: the hub holds no linkage of ${plusForm(msisdn)}`);
    const event = (r: LinkageEventRow, masked: string | undefined) => ({
      event_id: r.event_id,
      action: r.action,
      masked: masked ?? '',
      link_date: r.link_date,
      occurred_at: r.occurred_at,
      source: r.source,
    });
    return c.json(
      {
        msisdn: plusForm(msisdn),
        recycle_date: view?.recycleDate ?? null,
        nin: {
          linkages: (view?.ninLinkages ?? []).map((l) => linkageOut(l, view?.recycleDate ?? null)),
          events: ninRows.map((r) => event(r, r.nin_masked)),
        },
        bvn: {
          linkages: view ? view.bvnLinkages.map((l) => bvnLinkageOut(l, view)) : [],
          events: bvnRows.map((r) => ({
            ...event(r, r.bvn_masked),
            bank_code: r.bank_code ?? null,
            nuban_masked: r.nuban_masked ?? null,
          })),
        },
      },
      200,
    );
  });

  app.openapi(routes.lookup, async (c) => {
    const { msisdn } = c.req.valid('query');
    const [reading] = await ctx.readState([msisdn]);
    const view = reading?.view ?? null;
    recordUse(c, ctx, 'LOOKUP', [{ msisdn, view, found: view !== null }]);
    auditRead(c, ctx, 'IDENTITY_LOOKUP', {
      target: msisdnTarget(msisdn),
      operation: 'identity mapping of a number',
      found: view !== null,
    });
    if (!view) return reconixError(c, 'NOT_FOUND', `msisdn: the hub holds nothing about ${plusForm(msisdn)}`);
    return c.json(mappingOf(view, today()), 200);
  });

  app.openapi(routes.batch, async (c) => {
    const inputs = c.req.valid('json').msisdns;
    const checks = inputs.map((input, i) => checkItem(BatchItem, input, ['msisdns', i]));
    const valid = checks.flatMap((ch) => (ch.ok ? [ch.value] : []));
    const readings = await ctx.readState(valid);
    const day = today();
    let next = 0;
    const used: { msisdn: string; view: StateView | null; found: boolean }[] = [];
    const items = inputs.map((input, i) => {
      const check = checks[i]!;
      if (!check.ok) {
        const detail = check.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
        return { input, found: false, mapping: null, error: { code: 'VALIDATION_ERROR' as const, detail } };
      }
      const view = readings[next++]?.view ?? null;
      used.push({ msisdn: check.value, view, found: view !== null });
      return view
        ? { input, found: true, mapping: mappingOf(view, day), error: null }
        : {
            input,
            found: false,
            mapping: null,
            error: {
              code: 'NOT_FOUND' as const,
              detail: `msisdns[${i}]: the hub holds nothing about ${plusForm(check.value)}`,
            },
          };
    });
    if (used.length > 0) recordUse(c, ctx, 'LOOKUP', used);
    for (const u of used)
      auditRead(c, ctx, 'IDENTITY_LOOKUP', {
        target: msisdnTarget(u.msisdn),
        operation: 'identity mapping batch',
        found: u.found,
      });
    return c.json({ items, total: items.length }, 200);
  });

  app.openapi(routes.conflicts, async (c) => {
    const { skip, limit, code } = c.req.valid('query');
    const db = ctx.config.CLICKHOUSE_DATABASE;
    const [rows, counts] = await Promise.all([
      queryRows<ConflictRow>(ctx.clickhouseRead, conflictsPageQuery(db, code ?? null, skip, limit)),
      queryRows<{ total: string | number }>(ctx.clickhouseRead, conflictsCountQuery(db, code ?? null)),
    ]);
    return c.json(
      {
        items: rows.map((r) => ({
          msisdn: plusForm(r.msisdn),
          lifecycle_status: r.lifecycle_status,
          operator_code: r.operator,
          conflicts: r.conflict_codes.map((cc, i) => ({
            code: cc as (typeof CONFLICT_CODES)[number],
            since: r.conflict_since[i] ?? '',
          })),
        })),
        total: Number(counts[0]?.total ?? 0),
        skip,
        limit,
      },
      200,
    );
  });
}
