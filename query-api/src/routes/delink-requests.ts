import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  actorOf,
  checkedString,
  jsonBody,
  optionalJsonBody,
  rangeViolation,
  reconixErrors,
  requireAuth,
} from '@hub/ingest';
import type { DelinkEvent, DelinkScope } from '@hub/schemas';
import {
  DELINK_STATES,
  type DelinkRequestDoc,
  linkageIdOf,
  listRequests,
  overlapping,
  readRequest,
  readSim,
  requestsOfNumber,
  simIdOf,
  staleLinkagesOf,
} from '@hub/state';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { msisdnField } from '../identity/http.ts';
import { plusForm } from '../identity/mapping.ts';
import { PageQuery, pageOf } from '../pagination.ts';
import type { Workflow } from '../workflow/context.ts';
import { refusalOf, refusalResponse, WorkflowRefusal } from '../workflow/errors.ts';
import { DelinkRequestDetail, DelinkRequestOut, requestDetail, requestOut } from '../workflow/views.ts';

const BASE = '/api/v1/delink-requests';
const tags = ['Delink requests'];
const security = [{ ApiKey: [] }];
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const Create = z
  .object({
    msisdn: msisdnField().optional().openapi({ example: '08031234567' }),
    recycled_sim_id: z.string().uuid({ error: 'must be a recycled-SIM id (UUID)' }).optional(),
    linkages: z
      .array(
        z
          .string()
          .regex(/^(nin|bvn):[0-9a-f]{16}$/, { error: 'must be a linkage id such as nin:9f1c2e4d5a6b7c8d' }),
      )
      .min(1)
      .max(16)
      .optional()
      .openapi({ description: 'Linkage ids from the SIM detail view; default: every stale linkage' }),
    reason: z
      .string()
      .min(1, { error: 'is required' })
      .max(500)
      .openapi({ example: 'number reassigned on 2024-03-01' }),
  })
  .openapi('DelinkRequestCreate');

const Decision = z
  .object({
    decision: z.enum(['approve', 'reject']).openapi({ example: 'approve' }),
    reason: z
      .string()
      .min(1, { error: 'is required' })
      .max(500)
      .openapi({ example: 'checked with the operator' }),
  })
  .openapi('DelinkDecision');

const Cancel = z
  .object({ reason: z.string().min(1).max(500).optional().openapi({ example: 'raised in error' }) })
  .openapi('DelinkCancel');

const IdParam = z.object({
  id: z
    .string()
    .uuid({ error: 'must be a delink request id (UUID)' })
    .openapi({ param: { name: 'id', in: 'path' }, example: '6f9619ff-8b86-4d11-b42d-00c04fc964ff' }),
});

/** `2026-12-01` (the whole day, UTC) or an ISO timestamp, as epoch ms. */
const instantField = (end: boolean) =>
  checkedString((input) => {
    if (typeof input !== 'string')
      return { ok: false, reason: 'must be a date (YYYY-MM-DD) or an ISO timestamp' };
    const day = /^\d{4}-\d{2}-\d{2}$/.test(input);
    const ms = Date.parse(day ? `${input}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : input);
    return Number.isFinite(ms)
      ? { ok: true, value: ms }
      : { ok: false, reason: `'${input.slice(0, 30)}' is not a date (YYYY-MM-DD) or an ISO timestamp` };
  });

const ListQuery = z.object({
  ...PageQuery,
  status: z.enum(DELINK_STATES).optional(),
  msisdn: msisdnField().optional().openapi({ example: '08031234567' }),
  operator_code: z
    .string()
    .regex(/^[A-Z0-9]{2,16}$/, { error: 'must be an operator code such as MTN' })
    .optional(),
  created_from: instantField(false)
    .optional()
    .openapi({ description: 'Created at or after (date or ISO time)' }),
  created_to: instantField(true)
    .optional()
    .openapi({ description: 'Created at or before (date or ISO time)' }),
});

const ERRORS = [400, 401, 403, 404, 409, 413, 415, 429, 503] as const;

const createRouteDef = createRoute({
  method: 'post',
  path: BASE,
  tags,
  security,
  summary: 'Create delink request',
  description:
    'Admin/Operator, for a recycled SIM (give `msisdn` or `recycled_sim_id`). Names the linkages to clear (default: every stale one) and a reason. An open request already covering a linkage: 409 `DUPLICATE_REQUEST`.',
  request: { body: { content: json(Create), required: true } },
  responses: {
    201: { description: 'Created (PENDING)', content: json(DelinkRequestDetail) },
    ...reconixErrors(ERRORS, { 409: '`NOT_RECYCLED` or `DUPLICATE_REQUEST`' }),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: BASE,
  tags,
  security,
  summary: 'List delink requests',
  description: 'Newest first; filters: status, msisdn, operator_code, created range. Auth: any role.',
  request: { query: ListQuery },
  responses: {
    200: { description: 'A page', content: json(pageOf(DelinkRequestOut).openapi('DelinkRequestPage')) },
    ...reconixErrors([400, 401, 403, 429, 503]),
  },
});

const detailRoute = createRoute({
  method: 'get',
  path: `${BASE}/{id}`,
  tags,
  security,
  summary: 'Delink request detail',
  description: 'Every transition (who, when, why) and every dispatch outcome.',
  request: { params: IdParam },
  responses: {
    200: { description: 'The request', content: json(DelinkRequestDetail) },
    ...reconixErrors([400, 401, 403, 404, 429, 503]),
  },
});

const approveRoute = createRoute({
  method: 'post',
  path: `${BASE}/{id}/approve`,
  tags,
  security,
  summary: 'Approve or reject',
  description:
    'Admin. Maker-checker: the creator of a request cannot decide it (403 `MAKER_CANNOT_APPROVE`). PENDING → APPROVED or REJECTED; approving a FAILED request retries it (→ APPROVED, next attempt). Any other state: 409 `ILLEGAL_TRANSITION`.',
  request: { params: IdParam, body: { content: json(Decision), required: true } },
  responses: {
    200: { description: 'Decided', content: json(DelinkRequestDetail) },
    ...reconixErrors(ERRORS, { 403: 'Not an Admin, or `MAKER_CANNOT_APPROVE`' }),
  },
});

const cancelRoute = createRoute({
  method: 'post',
  path: `${BASE}/{id}/cancel`,
  tags,
  security,
  summary: 'Cancel pending/processing',
  description:
    'Admin/Operator, while PENDING, APPROVED (not yet dispatched) or PROCESSING. A body is optional.',
  request: { params: IdParam, body: { content: json(Cancel), required: false } },
  responses: {
    200: { description: 'Cancelled', content: json(DelinkRequestDetail) },
    ...reconixErrors(ERRORS),
  },
});

function workflowOf(ctx: ApiContext): Workflow {
  if (!ctx.workflow)
    throw new WorkflowRefusal('SERVICE_UNAVAILABLE', 'the delink workflow is not configured');
  return ctx.workflow;
}

function scopeOf(kinds: Set<string>): DelinkScope {
  if (kinds.size === 2) return 'ALL';
  return kinds.has('NIN') ? 'NIN' : 'BVN';
}

export function registerDelinkRequestRoutes(app: ApiApp, ctx: ApiContext): void {
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });
  const adminOrOperator = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator'] });
  const admin = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin'] });
  const body = jsonBody(64 * 1024);
  const withAuth = <R extends object>(route: R, ...middleware: MiddlewareHandler[]) => ({
    ...route,
    middleware,
  });

  const audit = (
    c: Context<ApiEnv>,
    action: string,
    doc: DelinkRequestDoc,
    details: Record<string, unknown>,
  ) => {
    const principal = c.get('principal');
    ctx.ingest.audit.record({
      actor: actorOf(principal),
      organisation: principal.organisation,
      action,
      target: doc.msisdn,
      outcome: 'SUCCESS',
      details: { requestId: doc.id, ...details },
      requestId: c.get('requestId'),
    });
  };

  /** Publishes a step of an existing request and answers with the request as the projector left it. */
  async function step(
    c: Context<ApiEnv>,
    wf: Workflow,
    doc: DelinkRequestDoc,
    action: DelinkEvent['action'],
    reason: string | null,
    attempt: number,
  ) {
    const now = ctx.now();
    const event: DelinkEvent = {
      eventId: randomUUID(),
      source: 'API',
      requestId: doc.id,
      msisdn: doc.msisdn,
      action,
      scope: doc.scope,
      actor: actorOf(c.get('principal')),
      reason,
      occurredAt: now,
      receivedAt: now,
      linkages: [],
      attempt,
      linkageId: null,
      outcome: null,
      idempotencyKey: null,
      operator: null,
    };
    await wf.writer.delink([event]);
    const outcome = await wf.writer.settled(event.eventId, wf.settleTimeoutMs);
    if (outcome !== 'applied') throw refusalOf(outcome, `the ${action.toLowerCase()} step`);
    const after = await readRequest(wf.redis, wf.keys, doc.id);
    audit(c, `DELINK_${action}`, doc, { from: doc.status, to: after?.status, reason });
    return requestDetail(after!);
  }

  async function load(wf: Workflow, id: string): Promise<DelinkRequestDoc> {
    const doc = await readRequest(wf.redis, wf.keys, id);
    if (!doc) throw new WorkflowRefusal('NOT_FOUND', `no delink request has id ${id}`, 'id');
    return doc;
  }

  app.openapi(withAuth(createRouteDef, adminOrOperator, body), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const input = c.req.valid('json');
      if ((input.msisdn === undefined) === (input.recycled_sim_id === undefined))
        throw new WorkflowRefusal(
          'VALIDATION_ERROR',
          'give exactly one of msisdn and recycled_sim_id',
          'msisdn',
        );
      let msisdn = input.msisdn;
      if (msisdn === undefined) {
        const sim = await readSim(wf.redis, wf.keys, input.recycled_sim_id!);
        if (!sim)
          throw new WorkflowRefusal(
            'NOT_FOUND',
            `no recycled SIM has id ${input.recycled_sim_id}`,
            'recycled_sim_id',
          );
        msisdn = sim.msisdn;
      }
      const shown = plusForm(msisdn);
      const [reading] = await ctx.readState([msisdn]);
      const view = reading?.view;
      if (!view) throw new WorkflowRefusal('NOT_FOUND', `the hub holds nothing about ${shown}`, 'msisdn');
      const principal = c.get('principal');
      const outside = rangeViolation(principal, msisdn, view.operator);
      if (outside) throw new WorkflowRefusal('FORBIDDEN', outside, 'msisdn');
      const sim = await readSim(wf.redis, wf.keys, simIdOf(msisdn));
      if (!sim)
        throw new WorkflowRefusal(
          'NOT_RECYCLED',
          `${shown} is not a registered recycled SIM; register it (POST /api/v1/recycled-sims) or run detection first`,
          'msisdn',
        );
      const stale = staleLinkagesOf(view);
      if (stale.length === 0)
        throw new WorkflowRefusal('NOT_RECYCLED', `${shown} has no stale linkage left to clear`, 'msisdn');
      const byId = new Map(stale.map((l) => [linkageIdOf(l.kind, l.token), l]));
      let chosen = stale;
      if (input.linkages) {
        input.linkages.forEach((id, i) => {
          if (!byId.has(id))
            throw new WorkflowRefusal(
              'VALIDATION_ERROR',
              `'${id}' is not a stale linkage of ${shown}`,
              `linkages[${i}]`,
            );
        });
        chosen = [...new Set(input.linkages)].map((id) => byId.get(id)!);
      }
      const open = await requestsOfNumber(wf.redis, wf.keys, msisdn);
      const dup = overlapping(
        open,
        chosen.map((l) => linkageIdOf(l.kind, l.token)),
      );
      if (dup.length > 0) {
        const other = open.find(
          (o) => o.linkages.some((l) => dup.includes(l.id)) && o.status !== 'COMPLETED',
        );
        throw new WorkflowRefusal(
          'DUPLICATE_REQUEST',
          `an open delink request (${other?.id}, ${other?.status}) already covers ${dup.length} of these linkages`,
        );
      }
      const now = ctx.now();
      const event: DelinkEvent = {
        eventId: randomUUID(),
        source: 'API',
        requestId: randomUUID(),
        msisdn,
        action: 'REQUESTED',
        scope: scopeOf(new Set(chosen.map((l) => l.kind))),
        actor: actorOf(principal),
        reason: input.reason,
        occurredAt: now,
        receivedAt: now,
        linkages: chosen,
        attempt: 0,
        linkageId: null,
        outcome: null,
        idempotencyKey: null,
        operator: view.operator,
      };
      await wf.writer.delink([event]);
      const outcome = await wf.writer.settled(event.eventId, wf.settleTimeoutMs);
      if (outcome !== 'applied') throw refusalOf(outcome, 'the request');
      const doc = await readRequest(wf.redis, wf.keys, event.requestId);
      audit(c, 'DELINK_REQUESTED', doc!, { linkages: chosen.map((l) => l.masked), reason: input.reason });
      return c.json(requestDetail(doc!), 201);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(listRoute, anyone), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const q = c.req.valid('query');
      const page = await listRequests(
        wf.redis,
        wf.keys,
        {
          ...(q.status ? { status: q.status } : {}),
          ...(q.msisdn ? { msisdn: q.msisdn } : {}),
          ...(q.operator_code ? { operator: q.operator_code } : {}),
          ...(q.created_from !== undefined ? { createdFrom: q.created_from } : {}),
          ...(q.created_to !== undefined ? { createdTo: q.created_to } : {}),
        },
        q.skip,
        q.limit,
      );
      return c.json(
        { items: page.items.map(requestOut), total: page.total, skip: q.skip, limit: q.limit },
        200,
      );
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(detailRoute, anyone), async (c) => {
    try {
      const wf = workflowOf(ctx);
      return c.json(requestDetail(await load(wf, c.req.valid('param').id)), 200);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(approveRoute, admin, body), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const doc = await load(wf, c.req.valid('param').id);
      const { decision, reason } = c.req.valid('json');
      const principal = c.get('principal');
      if (doc.createdBy === actorOf(principal)) {
        ctx.ingest.audit.record({
          actor: actorOf(principal),
          organisation: principal.organisation,
          action: 'DELINK_DECISION',
          target: doc.msisdn,
          outcome: 'DENIED',
          details: { requestId: doc.id, reason: 'maker cannot approve' },
          requestId: c.get('requestId'),
        });
        throw new WorkflowRefusal(
          'MAKER_CANNOT_APPROVE',
          `maker-checker: ${doc.createdBy} created request ${doc.id} and cannot ${decision} it; another Admin must`,
        );
      }
      if (decision === 'reject') {
        if (doc.status !== 'PENDING')
          throw new WorkflowRefusal(
            'ILLEGAL_TRANSITION',
            `cannot reject a request that is ${doc.status} (only PENDING)`,
            'decision',
          );
        return c.json(await step(c, wf, doc, 'REJECTED', reason, doc.attempt), 200);
      }
      if (doc.status === 'PENDING') return c.json(await step(c, wf, doc, 'APPROVED', reason, 1), 200);
      if (doc.status === 'FAILED')
        return c.json(await step(c, wf, doc, 'RETRIED', reason, doc.attempt + 1), 200);
      throw new WorkflowRefusal(
        'ILLEGAL_TRANSITION',
        `cannot approve a request that is ${doc.status} (only PENDING, or FAILED to retry)`,
        'decision',
      );
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(cancelRoute, adminOrOperator, optionalJsonBody(16 * 1024)), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const doc = await load(wf, c.req.valid('param').id);
      const outside = rangeViolation(c.get('principal'), doc.msisdn, doc.operator);
      if (outside) throw new WorkflowRefusal('FORBIDDEN', `${plusForm(doc.msisdn)} ${outside}`);
      if (!['PENDING', 'APPROVED', 'PROCESSING'].includes(doc.status))
        throw new WorkflowRefusal(
          'ILLEGAL_TRANSITION',
          `cannot cancel a request that is ${doc.status} (only PENDING, APPROVED or PROCESSING)`,
        );
      const reason = c.req.valid('json')?.reason ?? null;
      return c.json(await step(c, wf, doc, 'CANCELLED', reason, doc.attempt), 200);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });
}
