import { createRoute, z } from '@hono/zod-openapi';
import { quoteIdentifier } from '@hub/infra';
import type { FieldError } from '@hub/ingest';
import { reconixError, requireAuth, summarise } from '@hub/ingest';
import { sqlDate, sqlInteger, sqlString } from '@hub/state/history/queries';
import { RAW_TABLES } from '@hub/state/history/tables';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { pageParams } from '../pagination.ts';

const OUTCOMES = ['SUCCESS', 'DENIED', 'FAILURE'] as const;

const AuditRecord = z
  .object({
    id: z.string(),
    actor: z.string().openapi({ example: 'user:6b1f…' }),
    organisation: z.string().nullable(),
    action: z.string().openapi({ example: 'API_KEY_REVOKED' }),
    target: z.string().nullable(),
    outcome: z.enum(OUTCOMES),
    details: z.record(z.string(), z.unknown()),
    request_id: z.string().nullable(),
    ip: z.string().nullable(),
    occurred_at: z.string().openapi({ example: '2025-09-15T10:20:26Z' }),
  })
  .openapi('AuditRecord');

const ErrorBody = z.object({ detail: z.string(), code: z.string() });

const route = createRoute({
  method: 'get',
  path: '/api/v1/audit-logs',
  tags: ['Audit logs'],
  summary: 'Immutable audit trail (Admin, Auditor); newest first',
  description: 'Read-only: no endpoint updates or deletes an audit record.',
  security: [{ Bearer: [] }],
  request: {
    query: z.object({
      actor: z.string().max(200).optional(),
      action: z.string().max(100).optional(),
      outcome: z.enum(OUTCOMES).optional(),
      organisation: z.string().max(64).optional(),
      from: z
        .string()
        .optional()
        .openapi({ example: '2025-09-01', description: 'First day, YYYY-MM-DD (UTC)' }),
      to: z.string().optional().openapi({ example: '2025-09-30', description: 'Last day, YYYY-MM-DD (UTC)' }),
      skip: z.string().optional(),
      limit: z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: 'Page of audit records',
      content: {
        'application/json': {
          schema: z.object({
            items: z.array(AuditRecord),
            total: z.number(),
            skip: z.number(),
            limit: z.number(),
          }),
        },
      },
    },
    400: { description: 'Invalid filter', content: { 'application/json': { schema: ErrorBody } } },
    401: {
      description: 'Missing or invalid credentials',
      content: { 'application/json': { schema: ErrorBody } },
    },
    403: { description: 'Not Admin or Auditor', content: { 'application/json': { schema: ErrorBody } } },
    503: { description: 'History store unavailable', content: { 'application/json': { schema: ErrorBody } } },
  },
});

interface Row {
  event_id: string;
  actor: string;
  organisation: string | null;
  action: string;
  target: string | null;
  outcome: (typeof OUTCOMES)[number];
  details: string;
  request_id: string | null;
  ip: string | null;
  occurred_at: string;
}

/** The WHERE clause of a filter; every value through the one escaping function, dates checked. */
function whereClause(
  q: Record<string, string | undefined>,
): { ok: true; sql: string } | { ok: false; errors: FieldError[] } {
  const conditions: string[] = [];
  const errors: FieldError[] = [];
  if (q.actor) conditions.push(`actor = ${sqlString(q.actor)}`);
  if (q.action) conditions.push(`action = ${sqlString(q.action)}`);
  if (q.organisation) conditions.push(`organisation = ${sqlString(q.organisation)}`);
  if (q.outcome) {
    if ((OUTCOMES as readonly string[]).includes(q.outcome))
      conditions.push(`outcome = ${sqlString(q.outcome)}`);
    else errors.push({ field: 'outcome', message: `must be one of ${OUTCOMES.join(', ')}` });
  }
  for (const [field, op] of [
    ['from', '>='],
    ['to', '<='],
  ] as const) {
    const value = q[field];
    if (!value) continue;
    try {
      conditions.push(`occurred_date ${op} ${sqlDate(value)}`);
    } catch (err) {
      errors.push({ field, message: `must be a date YYYY-MM-DD (${(err as Error).message})` });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '' };
}

/** GET /api/v1/audit-logs over ClickHouse's append-only audit table, deduplicated by event id. */
export function registerAuditLogRoutes(app: ApiApp, ctx: ApiContext): void {
  app.openAPIRegistry.registerPath(route);
  const table = `${quoteIdentifier(ctx.config.CLICKHOUSE_DATABASE)}.${RAW_TABLES.audit}`;
  app.get(route.path, requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Auditor'] }), async (c) => {
    const query = c.req.query();
    const page = pageParams(query);
    const where = whereClause(query);
    const errors = [...(page.ok ? [] : page.errors), ...(where.ok ? [] : where.errors)];
    if (!page.ok || !where.ok) return reconixError(c, 'VALIDATION_ERROR', summarise(errors), errors);
    const rowsSql = `SELECT event_id, actor, organisation, action, target, toString(outcome) AS outcome, details, request_id, ip, toString(occurred_at) AS occurred_at FROM ${table} ${where.sql} ORDER BY occurred_at DESC, event_id LIMIT 1 BY event_id LIMIT ${sqlInteger(page.skip)}, ${sqlInteger(page.limit)}`;
    const totalSql = `SELECT uniqExact(event_id) AS total FROM ${table} ${where.sql}`;
    try {
      const [rows, totals] = await Promise.all([
        ctx.clickhouseRead.query({ query: rowsSql, format: 'JSONEachRow' }).then((r) => r.json<Row>()),
        ctx.clickhouseRead
          .query({ query: totalSql, format: 'JSONEachRow' })
          .then((r) => r.json<{ total: string | number }>()),
      ]);
      return c.json(
        {
          items: rows.map((r) => ({
            id: r.event_id,
            actor: r.actor,
            organisation: r.organisation,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            details: parseDetails(r.details),
            request_id: r.request_id,
            ip: r.ip,
            occurred_at: `${r.occurred_at.replace(' ', 'T')}Z`,
          })),
          total: Number(totals[0]?.total ?? 0),
          skip: page.skip,
          limit: page.limit,
        },
        200,
      );
    } catch (err) {
      console.error(
        JSON.stringify({
          level: 'error',
          requestId: c.get('requestId'),
          message: 'audit query failed',
          error: (err as Error).message,
        }),
      );
      return reconixError(c, 'SERVICE_UNAVAILABLE', 'history store unavailable; retry shortly');
    }
  });
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
