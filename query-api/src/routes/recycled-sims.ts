import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  actorOf,
  checkedString,
  checkItem,
  itemsOf,
  jsonBody,
  type Principal,
  rangeViolation,
  reconixErrors,
  requireAuth,
} from '@hub/ingest';
import { checkDate, type RecycledSimEvent, todayInLagos } from '@hub/schemas';
import {
  CLEANUP_TRANSITIONS,
  listSims,
  readSim,
  requestsOfNumber,
  type StateView,
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
import { CLEANUP, RecycledSimDetail, RecycledSimSummary, simDetail, simSummary } from '../workflow/views.ts';

export const MAX_BULK_SIMS = 10_000;
const BASE = '/api/v1/recycled-sims';
const tags = ['Recycled SIMs'];
const security = [{ ApiKey: [] }];

const dateField = () =>
  checkedString((input) => {
    const c = checkDate(input);
    return c.ok ? { ok: true, value: c.date } : c;
  });

const Registration = z
  .object({
    msisdn: msisdnField().openapi({ example: '08031234567' }),
    recycle_date: dateField().optional().openapi({
      description: 'When the number was recycled; default: its last churn/reassignment on record',
      example: '2024-03-01',
    }),
    reason: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .openapi({ example: 'reassigned after 12 months of inactivity' }),
  })
  .openapi('RecycledSimRegistration');

const BulkRegistration = z
  .object({
    items: itemsOf('RecycledSimRegistration', {
      min: 1,
      max: MAX_BULK_SIMS,
      tooFew: 'must contain at least one record',
      tooMany: (n) => `has ${n} records; at most ${MAX_BULK_SIMS} per request`,
    }),
  })
  .openapi('RecycledSimBulkRegistration', {
    example: { items: [{ msisdn: '08031234567', recycle_date: '2024-03-01' }, { msisdn: '0803123' }] },
  });

const BulkResult = z
  .object({
    items: z.array(
      z.object({
        index: z.number().int(),
        msisdn: z.string().nullable(),
        id: z.string().uuid().nullable(),
        outcome: z.enum(['registered', 'rejected']),
        code: z.string().nullable().openapi({ example: 'NOT_RECYCLED' }),
        message: z.string().nullable(),
      }),
    ),
    registered: z.number().int(),
    rejected: z.number().int(),
  })
  .openapi('RecycledSimBulkResult');

const IdParam = z.object({
  id: z
    .string()
    .uuid({ error: 'must be a recycled-SIM id (UUID)' })
    .openapi({ param: { name: 'id', in: 'path' }, example: '1b4e28ba-2fa1-51d2-883f-0016d3cca427' }),
});

const ListQuery = z.object({
  ...PageQuery,
  cleanup_status: z.enum(CLEANUP).optional().openapi({ description: 'Only this cleanup status' }),
  operator_code: z
    .string()
    .regex(/^[A-Z0-9]{2,16}$/, { error: 'must be an operator code such as MTN' })
    .optional()
    .openapi({ example: 'MTN' }),
  recycled_from: dateField().optional().openapi({ description: 'Recycle date on or after (YYYY-MM-DD)' }),
  recycled_to: dateField().optional().openapi({ description: 'Recycle date on or before (YYYY-MM-DD)' }),
});

const CleanupPatch = z
  .object({
    cleanup_status: z.enum(CLEANUP).openapi({ example: 'in_progress' }),
    reason: z.string().min(1).max(500).optional().openapi({ example: 'operator started the cleanup' }),
  })
  .openapi('RecycledSimCleanupUpdate');

const Job = z
  .object({
    job_id: z.string().uuid(),
    status: z.enum(['running', 'completed', 'failed']),
    started_by: z.string(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
    scanned: z.number().int().openapi({ description: 'Stored numbers read so far' }),
    stale: z.number().int().openapi({ description: 'Numbers found with a stale linkage' }),
    flagged: z.number().int().openapi({ description: 'Newly flagged by this scan' }),
    already_flagged: z.number().int().openapi({ description: 'Already in the registry: not flagged twice' }),
    unreadable: z.number().int(),
    error: z.string().nullable(),
  })
  .openapi('DetectionJob');

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const listRoute = createRoute({
  method: 'get',
  path: BASE,
  tags,
  security,
  summary: 'List recycled SIMs (paginated)',
  description: 'Newest first. Filters: cleanup_status, operator_code, recycle-date range. Auth: any role.',
  request: { query: ListQuery },
  responses: {
    200: { description: 'A page', content: json(pageOf(RecycledSimSummary).openapi('RecycledSimPage')) },
    ...reconixErrors([400, 401, 403, 429, 503]),
  },
});

const registerRoute = createRoute({
  method: 'post',
  path: BASE,
  tags,
  security,
  summary: 'Register a recycled SIM',
  description:
    "Admin/Operator (an operator only for numbers in its ranges or that it serves). The previous owner's active linkages are found from the state and held as tokens and masks.",
  request: { body: { content: json(Registration), required: true } },
  responses: {
    201: { description: 'Registered', content: json(RecycledSimDetail) },
    ...reconixErrors([400, 401, 403, 404, 409, 413, 415, 429, 503], {
      404: 'The hub holds nothing about the number',
      409: '`NOT_RECYCLED` (no churn/reassignment, or no linkage of a previous owner) or `ALREADY_REGISTERED`',
    }),
  },
});

const bulkRoute = createRoute({
  method: 'post',
  path: `${BASE}/bulk`,
  tags,
  security,
  summary: `Bulk registration (up to ${MAX_BULK_SIMS} records)`,
  description: 'Admin. Every record gets its own result; a bad record never stops the good ones.',
  request: { body: { content: json(BulkRegistration), required: true } },
  responses: {
    200: { description: 'One result per record, in input order', content: json(BulkResult) },
    ...reconixErrors([400, 401, 403, 413, 415, 429, 503]),
  },
});

const detectRoute = createRoute({
  method: 'post',
  path: `${BASE}/detect`,
  tags,
  security,
  summary: 'Detection scan: flags SIMs with stale linkages',
  description:
    'Admin. Starts a background scan over every stored number; returns the job. Idempotent: a number already in the registry is not flagged again.',
  responses: {
    202: { description: 'Scan started', content: json(Job) },
    ...reconixErrors([401, 403, 429, 503]),
  },
});

const jobRoute = createRoute({
  method: 'get',
  path: `${BASE}/detect/{job_id}`,
  tags,
  security,
  summary: 'Progress and counts of a detection scan',
  request: {
    params: z.object({
      job_id: z
        .string()
        .uuid({ error: 'must be a job id (UUID)' })
        .openapi({ param: { name: 'job_id', in: 'path' } }),
    }),
  },
  responses: {
    200: { description: 'The job', content: json(Job) },
    ...reconixErrors([400, 401, 403, 404, 429]),
  },
});

const detailRoute = createRoute({
  method: 'get',
  path: `${BASE}/{id}`,
  tags,
  security,
  summary: 'SIM detail view',
  description:
    "The number's status response fields, each stale linkage (masked) with its since-date, its delink requests and the history of its cleanup states.",
  request: { params: IdParam },
  responses: {
    200: { description: 'The recycled SIM', content: json(RecycledSimDetail) },
    ...reconixErrors([400, 401, 403, 404, 429, 503]),
  },
});

const patchRoute = createRoute({
  method: 'patch',
  path: `${BASE}/{id}`,
  tags,
  security,
  summary: 'Update cleanup status',
  description:
    'Admin/Operator. Legal changes: pending → in_progress | completed, in_progress → pending | completed; `completed` only once the state shows no stale linkage. An illegal change is 409 `ILLEGAL_TRANSITION` naming both states.',
  request: { params: IdParam, body: { content: json(CleanupPatch), required: true } },
  responses: {
    200: { description: 'Updated', content: json(RecycledSimDetail) },
    ...reconixErrors([400, 401, 403, 404, 409, 413, 415, 429, 503]),
  },
});

function workflowOf(ctx: ApiContext): Workflow {
  if (!ctx.workflow)
    throw new WorkflowRefusal('SERVICE_UNAVAILABLE', 'the delink workflow is not configured');
  return ctx.workflow;
}

type Registered = { id: string; event: RecycledSimEvent };

/** Checks one registration against the live state; the event to publish, or the refusal. */
async function registrationOf(
  ctx: ApiContext,
  wf: Workflow,
  principal: Principal,
  r: { msisdn: string; recycle_date?: string | undefined; reason?: string | undefined },
  view: StateView | null,
): Promise<Registered> {
  const shown = plusForm(r.msisdn);
  if (!view) throw new WorkflowRefusal('NOT_FOUND', `the hub holds nothing about ${shown}`, 'msisdn');
  const outside = rangeViolation(principal, r.msisdn, view.operator);
  if (outside) throw new WorkflowRefusal('FORBIDDEN', outside, 'msisdn');
  const today = todayInLagos(ctx.now());
  if (r.recycle_date && r.recycle_date > today)
    throw new WorkflowRefusal('VALIDATION_ERROR', `'${r.recycle_date}' is in the future`, 'recycle_date');
  const recycleDate = r.recycle_date ?? view.recycleDate;
  if (!recycleDate)
    throw new WorkflowRefusal(
      'NOT_RECYCLED',
      `${shown} has no churn or reassignment on record; give recycle_date to register it`,
      'msisdn',
    );
  const stale = staleLinkagesOf({ ...view, recycleDate });
  if (stale.length === 0)
    throw new WorkflowRefusal(
      'NOT_RECYCLED',
      `${shown} has no active NIN or BVN linkage older than ${recycleDate}: nothing of a previous owner to clear`,
      'msisdn',
    );
  const id = simIdOf(r.msisdn);
  const existing = await readSim(wf.redis, wf.keys, id);
  if (existing?.origin === 'REGISTERED')
    throw new WorkflowRefusal(
      'ALREADY_REGISTERED',
      `${shown} is already registered as recycled (id ${id})`,
      'msisdn',
    );
  const now = ctx.now();
  return {
    id,
    event: {
      eventId: randomUUID(),
      source: 'API',
      simId: id,
      msisdn: r.msisdn,
      action: 'REGISTERED',
      recycleDate,
      operator: view.operator,
      cleanupStatus: 'pending',
      linkages: stale,
      actor: actorOf(principal),
      reason: r.reason ?? null,
      occurredAt: now,
      receivedAt: now,
    },
  };
}

async function detailOf(ctx: ApiContext, wf: Workflow, id: string) {
  const doc = await readSim(wf.redis, wf.keys, id);
  if (!doc) throw new WorkflowRefusal('NOT_FOUND', `no recycled SIM has id ${id}`, 'id');
  const [reading] = await ctx.readState([doc.msisdn]);
  if (!reading?.view)
    throw new WorkflowRefusal('NOT_FOUND', `the hub holds no state for ${plusForm(doc.msisdn)}`, 'id');
  const requests = await requestsOfNumber(wf.redis, wf.keys, doc.msisdn);
  return simDetail(doc, reading.view, requests);
}

function audit(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  action: string,
  target: string,
  details: Record<string, unknown>,
) {
  const principal = c.get('principal');
  ctx.ingest.audit.record({
    actor: actorOf(principal),
    organisation: principal.organisation,
    action,
    target,
    outcome: 'SUCCESS',
    details,
    requestId: c.get('requestId'),
  });
}

/** Reconix recycled SIMs: the registry, detection, detail and cleanup status. */
export function registerRecycledSimRoutes(app: ApiApp, ctx: ApiContext): void {
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });
  const adminOrOperator = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator'] });
  const admin = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin'] });
  const small = jsonBody(64 * 1024);
  const large = jsonBody(4 * 1024 * 1024);
  const withAuth = <R extends object>(route: R, ...middleware: MiddlewareHandler[]) => ({
    ...route,
    middleware,
  });

  app.openapi(withAuth(listRoute, anyone), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const q = c.req.valid('query');
      const page = await listSims(
        wf.redis,
        wf.keys,
        {
          ...(q.cleanup_status ? { cleanupStatus: q.cleanup_status } : {}),
          ...(q.operator_code ? { operator: q.operator_code } : {}),
          ...(q.recycled_from ? { recycledFrom: q.recycled_from } : {}),
          ...(q.recycled_to ? { recycledTo: q.recycled_to } : {}),
        },
        q.skip,
        q.limit,
      );
      return c.json(
        { items: page.items.map(simSummary), total: page.total, skip: q.skip, limit: q.limit },
        200,
      );
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(registerRoute, adminOrOperator, small), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const body = c.req.valid('json');
      const [reading] = await ctx.readState([body.msisdn]);
      const reg = await registrationOf(ctx, wf, c.get('principal'), body, reading?.view ?? null);
      await wf.writer.sims([reg.event]);
      const outcome = await wf.writer.settled(reg.event.eventId, wf.settleTimeoutMs);
      if (outcome !== 'applied') throw refusalOf(outcome, 'the registration');
      audit(c, ctx, 'RECYCLED_SIM_REGISTERED', body.msisdn, {
        id: reg.id,
        recycleDate: reg.event.recycleDate,
        linkages: reg.event.linkages.length,
      });
      return c.json(await detailOf(ctx, wf, reg.id), 201);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(bulkRoute, admin, large), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const principal = c.get('principal');
      const rows = c.req.valid('json').items.map((item, i) => checkItem(Registration, item, ['items', i]));
      const valid = rows.flatMap((r) => (r.ok ? [r.value] : []));
      const views = new Map<string, StateView | null>();
      for (let i = 0; i < valid.length; i += 1000) {
        const readings = await ctx.readState(valid.slice(i, i + 1000).map((v) => v.msisdn));
        for (const r of readings) views.set(r.msisdn, r.view);
      }
      type Row = {
        index: number;
        msisdn: string | null;
        id: string | null;
        outcome: 'registered' | 'rejected';
        code: string | null;
        message: string | null;
      };
      const out: Row[] = [];
      const events: { index: number; reg: Registered }[] = [];
      const inRequest = new Set<string>();
      for (let index = 0; index < rows.length; index++) {
        const row = rows[index]!;
        if (!row.ok) {
          out.push({
            index,
            msisdn: null,
            id: null,
            outcome: 'rejected',
            code: 'VALIDATION_ERROR',
            message: row.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
          });
          continue;
        }
        const msisdn = row.value.msisdn;
        try {
          if (inRequest.has(msisdn))
            throw new WorkflowRefusal(
              'ALREADY_REGISTERED',
              `${plusForm(msisdn)} appears earlier in this request`,
            );
          const reg = await registrationOf(ctx, wf, principal, row.value, views.get(msisdn) ?? null);
          inRequest.add(msisdn);
          events.push({ index, reg });
          out.push({
            index,
            msisdn: plusForm(msisdn),
            id: reg.id,
            outcome: 'registered',
            code: null,
            message: null,
          });
        } catch (err) {
          if (!(err instanceof WorkflowRefusal)) throw err;
          out.push({
            index,
            msisdn: plusForm(msisdn),
            id: null,
            outcome: 'rejected',
            code: err.code,
            message: err.message,
          });
        }
      }
      if (events.length > 0) {
        await wf.writer.sims(events.map((e) => e.reg.event));
        // Events of one request are settled in order per partition; each row reports its own verdict.
        for (const e of events) {
          const outcome = await wf.writer.settled(e.reg.event.eventId, wf.settleTimeoutMs);
          if (outcome === 'applied') continue;
          const refusal = refusalOf(outcome, 'the registration');
          out[e.index] = {
            ...out[e.index]!,
            id: null,
            outcome: 'rejected',
            code: refusal.code,
            message: refusal.message,
          };
        }
        audit(c, ctx, 'RECYCLED_SIMS_BULK_REGISTERED', `${events.length} numbers`, {
          records: rows.length,
          registered: out.filter((o) => o.outcome === 'registered').length,
        });
      }
      const registered = out.filter((o) => o.outcome === 'registered').length;
      return c.json({ items: out, registered, rejected: out.length - registered }, 200);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  const jobOut = (j: NonNullable<Awaited<ReturnType<Workflow['jobs']['get']>>>) => ({
    job_id: j.id,
    status: j.status,
    started_by: j.startedBy,
    started_at: new Date(j.startedAt).toISOString(),
    finished_at: j.finishedAt === null ? null : new Date(j.finishedAt).toISOString(),
    scanned: j.scanned,
    stale: j.stale,
    flagged: j.flagged,
    already_flagged: j.alreadyFlagged,
    unreadable: j.unreadable,
    error: j.error,
  });

  app.openapi(withAuth(detectRoute, admin), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const job = await wf.jobs.start(actorOf(c.get('principal')));
      audit(c, ctx, 'RECYCLED_SIM_DETECTION_STARTED', 'all numbers', { jobId: job.id });
      return c.json(jobOut(job), 202);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(jobRoute, admin), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const id = c.req.valid('param').job_id;
      const job = await wf.jobs.get(id);
      if (!job) throw new WorkflowRefusal('NOT_FOUND', `no detection job has id ${id}`, 'job_id');
      return c.json(jobOut(job), 200);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(detailRoute, anyone), async (c) => {
    try {
      return c.json(await detailOf(ctx, workflowOf(ctx), c.req.valid('param').id), 200);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });

  app.openapi(withAuth(patchRoute, adminOrOperator, small), async (c) => {
    try {
      const wf = workflowOf(ctx);
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const doc = await readSim(wf.redis, wf.keys, id);
      if (!doc) throw new WorkflowRefusal('NOT_FOUND', `no recycled SIM has id ${id}`, 'id');
      const [reading] = await ctx.readState([doc.msisdn]);
      const principal = c.get('principal');
      const outside = rangeViolation(principal, doc.msisdn, reading?.view?.operator ?? null);
      if (outside) throw new WorkflowRefusal('FORBIDDEN', `${plusForm(doc.msisdn)} ${outside}`);
      const to = body.cleanup_status;
      if (!CLEANUP_TRANSITIONS[doc.cleanupStatus].includes(to))
        throw new WorkflowRefusal(
          'ILLEGAL_TRANSITION',
          `cannot change from ${doc.cleanupStatus} to ${to} (allowed from ${doc.cleanupStatus}: ${CLEANUP_TRANSITIONS[doc.cleanupStatus].join(', ') || 'none'})`,
          'cleanup_status',
        );
      const stale = reading?.view ? staleLinkagesOf(reading.view) : [];
      if (to === 'completed' && stale.length > 0)
        throw new WorkflowRefusal(
          'STALE_LINKAGES_REMAIN',
          `cannot be completed: ${stale.length} linkage(s) of a previous owner are still active (${stale.map((l) => l.masked).join(', ')})`,
          'cleanup_status',
        );
      const now = ctx.now();
      const event: RecycledSimEvent = {
        eventId: randomUUID(),
        source: 'API',
        simId: id,
        msisdn: doc.msisdn,
        action: 'CLEANUP_STATUS_CHANGED',
        recycleDate: null,
        operator: null,
        cleanupStatus: to,
        linkages: [],
        actor: actorOf(principal),
        reason: body.reason ?? null,
        occurredAt: now,
        receivedAt: now,
      };
      await wf.writer.sims([event]);
      const outcome = await wf.writer.settled(event.eventId, wf.settleTimeoutMs);
      if (outcome !== 'applied') throw refusalOf(outcome, 'the cleanup-status change');
      audit(c, ctx, 'RECYCLED_SIM_CLEANUP_STATUS', doc.msisdn, { id, from: doc.cleanupStatus, to });
      return c.json(await detailOf(ctx, wf, id), 200);
    } catch (err) {
      return refusalResponse(c, err) as never;
    }
  });
}
