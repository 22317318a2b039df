import { createRoute, z } from '@hono/zod-openapi';
import { quoteIdentifier } from '@hub/infra';
import { optionalParam, reconixErrors, requireAuth } from '@hub/ingest';
import { looksLikeEmail } from '@hub/security';
import { sqlDate, sqlInteger, sqlString } from '@hub/state/history/queries';
import { RAW_TABLES } from '@hub/state/history/tables';
import type { MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { historyDayField, queryRows } from '../identity/http.ts';
import { PageQuery, pageOf } from '../pagination.ts';

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

/** A day bound of the filter: a real date that ClickHouse's Date type can hold. */
const dayParam = (description: string, example: string) =>
  optionalParam(historyDayField()).openapi({ description, example });

const AuditQuery = z.object({
  actor: optionalParam(z.string().max(200)).openapi({
    description:
      'Who acted: user:<id>, key:<id>, system:<name>, or an e-mail address (entries name it by its pseudonym, email:<hash>; the address is looked up by that hash)',
  }),
  target: optionalParam(z.string().max(200)).openapi({
    description: 'What was acted on; an e-mail address is looked up by its pseudonym, as for actor',
  }),
  action: optionalParam(z.string().max(100)),
  outcome: optionalParam(z.enum(OUTCOMES, { error: `must be one of ${OUTCOMES.join(', ')}` })),
  organisation: optionalParam(z.string().max(64)),
  from: dayParam('First day, YYYY-MM-DD (UTC)', '2025-09-01'),
  to: dayParam('Last day, YYYY-MM-DD (UTC)', '2025-09-30'),
  ...PageQuery,
});

const routeOf = (auditors: MiddlewareHandler<ApiEnv>) =>
  createRoute({
    method: 'get',
    path: '/api/v1/audit-logs',
    tags: ['Audit logs'],
    summary: 'Immutable audit trail (Admin, Auditor); newest first',
    description: 'Read-only: no endpoint updates or deletes an audit record.',
    security: [{ Bearer: [] }],
    middleware: [auditors],
    request: { query: AuditQuery },
    responses: {
      200: {
        description: 'Page of audit records',
        content: { 'application/json': { schema: pageOf(AuditRecord).openapi('AuditLogPage') } },
      },
      ...reconixErrors([400, 401, 403, 429, 503], { 403: 'Not Admin or Auditor' }),
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

/** The WHERE clause of a validated filter; every value through the one escaping function. */
function whereClause(q: z.output<typeof AuditQuery>, pseudonym: (email: string) => string): string {
  // The trail never holds an address (security/src/pseudonyms.ts): a filter by one looks for its pseudonym.
  const named = (v: string) => {
    const address = v.startsWith('email:') ? v.slice('email:'.length) : v;
    return looksLikeEmail(address) ? pseudonym(address) : v;
  };
  const conditions: string[] = [];
  if (q.actor) conditions.push(`actor = ${sqlString(named(q.actor))}`);
  if (q.target) conditions.push(`target = ${sqlString(named(q.target))}`);
  if (q.action) conditions.push(`action = ${sqlString(q.action)}`);
  if (q.organisation) conditions.push(`organisation = ${sqlString(q.organisation)}`);
  if (q.outcome) conditions.push(`outcome = ${sqlString(q.outcome)}`);
  if (q.from) conditions.push(`occurred_date >= ${sqlDate(q.from)}`);
  if (q.to) conditions.push(`occurred_date <= ${sqlDate(q.to)}`);
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** GET /api/v1/audit-logs over ClickHouse's append-only audit table, deduplicated by event id. */
export function registerAuditLogRoutes(app: ApiApp, ctx: ApiContext): void {
  const table = `${quoteIdentifier(ctx.config.CLICKHOUSE_DATABASE)}.${RAW_TABLES.audit}`;
  const route = routeOf(requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Auditor'] }));
  app.openapi(route, async (c) => {
    const query = c.req.valid('query');
    const where = whereClause(query, ctx.security.pseudonym);
    const rowsSql = `SELECT event_id, actor, organisation, action, target, toString(outcome) AS outcome, details, request_id, ip, toString(occurred_at) AS occurred_at FROM ${table} ${where} ORDER BY occurred_at DESC, event_id LIMIT 1 BY event_id LIMIT ${sqlInteger(query.skip)}, ${sqlInteger(query.limit)}`;
    const totalSql = `SELECT uniqExact(event_id) AS total FROM ${table} ${where}`;
    // A history store that cannot answer throws HistoryUnavailableError: onError's 503.
    const [rows, totals] = await Promise.all([
      queryRows<Row>(ctx.clickhouseRead, rowsSql),
      queryRows<{ total: string | number }>(ctx.clickhouseRead, totalSql),
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
        skip: query.skip,
        limit: query.limit,
      },
      200,
    );
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
