import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { quoteIdentifier } from '@hub/infra';
import {
  ANY_ROLE,
  actorOf,
  jsonBody,
  type Principal,
  reconixError,
  reconixErrors,
  requireAuth,
} from '@hub/ingest';
import { tokenise } from '@hub/schemas';
import { sqlString } from '@hub/state/history/queries';
import { RAW_TABLES } from '@hub/state/history/tables';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { PRIVACY_POLICY, privacyPolicyHtml } from '../data-subject/policy.ts';
import {
  CONSENT_PURPOSES,
  type DataSubjectRequest,
  DataSubjectService,
  REQUEST_STATUSES,
  RESPONSE_DAYS,
  SUBSCRIBER_REQUEST_TYPES,
} from '../data-subject/service.ts';
import { identifierField, msisdnField } from '../identity/http.ts';

const BASE = '/api/v1/data-subject';
const tags = ['Data-subject rights (NDPR)'];
const bearer = [{ Bearer: [] }];
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });

const RequestOut = z
  .object({
    id: z.string().openapi({ example: '0b0f5c1e-8f55-4a57-9f34-0e8d0d3c2a11' }),
    type: z.enum([...SUBSCRIBER_REQUEST_TYPES, 'ACCOUNT_ERASURE']),
    subject_type: z.enum(['SUBSCRIBER', 'ACCOUNT']),
    subject: z
      .string()
      .openapi({ description: 'Masked MSISDN, or the account id', example: '+234803*****67' }),
    status: z.enum(REQUEST_STATUSES),
    filed_by: z.string(),
    organisation: z.string(),
    due_date: z.string().openapi({ example: '2025-10-09' }),
    assignee: z.string().nullable(),
    note: z.string().nullable(),
    outcome: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('DataSubjectRequest');

const iso = (ms: number) => new Date(ms).toISOString();
const maskMsisdn = (m: string) => `+${m.slice(0, 6)}*****${m.slice(-2)}`;

function requestOut(r: DataSubjectRequest): z.infer<typeof RequestOut> {
  return {
    id: r.id,
    type: r.type,
    subject_type: r.subjectType,
    subject: r.subjectType === 'SUBSCRIBER' ? maskMsisdn(r.subject) : r.subject,
    status: r.status,
    filed_by: r.filedBy,
    organisation: r.organisation,
    due_date: r.dueDate,
    assignee: r.assignee,
    note: r.note,
    outcome: r.outcome,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  };
}

const ConsentOut = z
  .object({
    purpose: z.string().openapi({ example: 'PRODUCT_EMAILS' }),
    granted: z.boolean(),
    changed_at: z.string(),
    actor: z.string(),
  })
  .openapi('Consent');

const Purpose = z
  .object({
    purpose: z
      .enum(CONSENT_PURPOSES, { error: `must be one of ${CONSENT_PURPOSES.join(', ')}` })
      .openapi({ example: 'PRODUCT_EMAILS' }),
  })
  .openapi('ConsentChange');

const AccessRequestIn = z
  .object({
    type: z
      .enum(SUBSCRIBER_REQUEST_TYPES, { error: `must be one of ${SUBSCRIBER_REQUEST_TYPES.join(', ')}` })
      .openapi({ example: 'ACCESS' }),
    msisdn: msisdnField().openapi({ example: '08031234567' }),
    nin: identifierField('NIN').openapi({
      example: '12345678901',
      description: 'The subscriber’s NIN; checked by its token against the number’s linkages, never stored',
    }),
    note: z.string().max(500).optional().openapi({ example: 'request received at the Ikeja branch' }),
  })
  .openapi('AccessRequestCreate');

const IdParam = z.object({
  id: z
    .string()
    .uuid({ error: 'must be a data-subject request id (UUID)' })
    .openapi({ param: { name: 'id', in: 'path' }, example: '0b0f5c1e-8f55-4a57-9f34-0e8d0d3c2a11' }),
});

/** What an account holder's erasure removes and keeps, and why (the answer of delete-my-data). */
const ACCOUNT_ERASURE_EFFECT = {
  erased: [
    'the account record (name, e-mail, password hash, role): a tombstone on the compacted accounts topic removes it from every projection',
    'every session: all access and refresh tokens stop working',
    'consent records',
  ],
  kept: [
    {
      what: 'audit entries where the account is the actor or the target',
      why: 'the audit trail is a legal obligation (NDPR art. 2.1, NDPA 2023 s. 25): entries are pseudonymised, naming the account by its id and an e-mail address only by a keyed hash of it (never the address), and neither resolves to a person once the account record is erased',
    },
    {
      what: 'API keys the account issued (metadata only)',
      why: 'they belong to the organisation, which keeps using them; the issuer is recorded by account id only',
    },
    {
      what: 'this request',
      why: 'the record that the right was exercised and honoured',
    },
  ],
};

const SUBSCRIBER_ERASURE_EFFECT = {
  erased: [
    'the number’s NIN and BVN linkages in the state projection (Redis)',
    'linkage events, token indexes, state changes and verification records of the number in the history store (ClickHouse), up to the erasure’s position',
  ],
  kept: [
    {
      what: 'operator status events of the number',
      why: 'facts about the line (churn, swap, barring) that fraud checks rely on; they hold no identity',
    },
    { what: 'audit entries', why: 'a legal obligation; they name the number only as a target' },
    {
      what: 'recycled-SIM and delink workflow records of the number',
      why: 'the regulator’s record that a previous owner’s linkages were cleared before the number was reassigned; they hold linkages only as tokens and masks (the last four digits), never a NIN or BVN',
    },
    {
      what: 'bulk verification results of the number',
      why: 'line status facts (status, dates, network) with no identity in them, expiring with their result link',
    },
    { what: 'aggregate dashboard counts', why: 'counts with no identity in them' },
  ],
};

function dueDate(now: number): string {
  return new Date(now + RESPONSE_DAYS * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The NDPR data-subject routes of the Reconix document, under /api/v1/data-subject: the privacy
 * policy, the account holder's export, deletion and consents, and subscribers' requests filed by
 * an authorised party with their admin flow (list, assign, fulfil). Every change is an event on
 * the data-subject topic (DataSubjectService); every step is audited. Limits (security/): NDPR
 * access 10/min and NDPR deletion 2/hour, counted per authenticated principal.
 */
export function registerDataSubjectRoutes(
  app: ApiApp,
  ctx: ApiContext,
  service: DataSubjectService = new DataSubjectService(ctx.config),
): DataSubjectService {
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });
  const admin = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin'] });
  const filers = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator', 'ServiceProvider'] });
  const access = ctx.security.limit<ApiEnv>('ndprAccess');
  const deletion = ctx.security.limit<ApiEnv>('ndprDeletion');
  const body = jsonBody(16 * 1024);
  const audit = (
    c: Context<ApiEnv>,
    action: string,
    target: string | null,
    details: Record<string, unknown>,
  ) => {
    const p = c.get('principal');
    ctx.ingest.audit.record({
      actor: actorOf(p),
      organisation: p.organisation,
      action,
      target,
      outcome: 'SUCCESS',
      details,
      requestId: c.get('requestId') ?? null,
    });
  };

  // ---- privacy policy (public) ----
  app.openapi(
    createRoute({
      method: 'get',
      path: `${BASE}/privacy-policy`,
      tags,
      summary: 'The hub’s privacy policy (public); JSON, or a page for Accept: text/html',
      responses: {
        200: {
          description: 'The current policy',
          content: {
            'application/json': { schema: z.record(z.string(), z.unknown()).openapi('PrivacyPolicy') },
            'text/html': { schema: z.string() },
          },
        },
        ...reconixErrors([429]),
      },
    }),
    (c) => {
      const accept = c.req.header('accept') ?? '';
      if (/text\/html/.test(accept) && !/application\/json/.test(accept)) return c.html(privacyPolicyHtml());
      return c.json(PRIVACY_POLICY, 200);
    },
  );

  // ---- the caller's own data ----
  app.openapi(
    createRoute({
      method: 'get',
      path: `${BASE}/my-data`,
      tags,
      summary: 'Export everything the hub holds about the caller (an API key: its organisation’s view)',
      description: 'Served as a JSON file download (Content-Disposition: attachment).',
      security: bearer,
      middleware: [anyone, access],
      responses: {
        200: {
          description: 'The export',
          content: json(z.record(z.string(), z.unknown()).openapi('MyData')),
        },
        ...reconixErrors([401, 403, 429, 503]),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      await service.ready();
      const exported = await exportOf(ctx, service, p);
      audit(c, 'DATA_SUBJECT_EXPORT', actorOf(p), { stores: Object.keys(exported.sources) });
      c.header(
        'Content-Disposition',
        `attachment; filename="my-data-${new Date(ctx.now()).toISOString().slice(0, 10)}.json"`,
      );
      return c.json(exported, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: `${BASE}/delete-my-data`,
      tags,
      summary: 'Request the erasure of the caller’s account (people only; 2 per hour)',
      description:
        'Files an ACCOUNT_ERASURE request (or returns the one still open) for an admin to fulfil: fulfilment ends every session, removes the account with a tombstone on the accounts topic and drops its consents. The answer says what is erased and what is kept, and why.',
      security: bearer,
      middleware: [anyone, deletion],
      responses: {
        202: {
          description: 'The request, and what its processing erases and keeps',
          content: json(
            z
              .object({
                request: RequestOut,
                erased: z.array(z.string()),
                kept: z.array(z.object({ what: z.string(), why: z.string() })),
              })
              .openapi('ErasureRequested'),
          ),
        },
        ...reconixErrors([401, 403, 429, 503], {
          403: 'An API key is not a person: it has no account to erase',
        }),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      if (!p.userId)
        return reconixError(
          c,
          'FORBIDDEN',
          'an API key has no personal account to erase; an organisation’s data is erased through the hub’s desk',
        );
      await service.ready();
      const open = service
        .list({ filedBy: actorOf(p), subject: p.userId })
        .find((r) => r.type === 'ACCOUNT_ERASURE' && (r.status === 'RECEIVED' || r.status === 'ASSIGNED'));
      let request = open;
      if (!request) {
        const id = randomUUID();
        await service.publish({
          type: 'REQUEST_FILED',
          subjectType: 'ACCOUNT',
          subject: p.userId,
          requestId: id,
          actor: actorOf(p),
          purpose: null,
          details: JSON.stringify({
            type: 'ACCOUNT_ERASURE',
            organisation: p.organisation,
            dueDate: dueDate(ctx.now()),
          }),
        });
        request = service.request(id)!;
        audit(c, 'DATA_SUBJECT_REQUEST_FILED', `user:${p.userId}`, {
          requestId: id,
          type: 'ACCOUNT_ERASURE',
        });
      }
      return c.json(
        {
          request: requestOut(request),
          erased: ACCOUNT_ERASURE_EFFECT.erased,
          kept: ACCOUNT_ERASURE_EFFECT.kept,
        },
        202,
      );
    },
  );

  // ---- consent ----
  app.openapi(
    createRoute({
      method: 'get',
      path: `${BASE}/consent`,
      tags,
      summary: 'The caller’s consent records, one per purpose',
      security: bearer,
      middleware: [anyone, access],
      responses: {
        200: {
          description: 'Consents',
          content: json(z.object({ subject: z.string(), items: z.array(ConsentOut) }).openapi('Consents')),
        },
        ...reconixErrors([401, 403, 429, 503]),
      },
    }),
    async (c) => {
      await service.ready();
      const subject = actorOf(c.get('principal'));
      return c.json({ subject, items: service.consentsOf(subject).map(consentOut) }, 200);
    },
  );

  for (const change of ['grant', 'withdraw'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `${BASE}/consent/${change}`,
        tags,
        summary: change === 'grant' ? 'Grant consent for a purpose' : 'Withdraw consent for a purpose',
        description: 'Each change is an event on the data-subject topic; the answer is the new record.',
        security: bearer,
        middleware: [anyone, access, body],
        request: { body: { content: json(Purpose), required: true } },
        responses: {
          200: { description: 'The consent record after the change', content: json(ConsentOut) },
          ...reconixErrors([400, 401, 403, 413, 415, 429, 503]),
        },
      }),
      async (c) => {
        const { purpose } = c.req.valid('json');
        const subject = actorOf(c.get('principal'));
        await service.publish({
          type: change === 'grant' ? 'CONSENT_GRANTED' : 'CONSENT_WITHDRAWN',
          subjectType: 'ACCOUNT',
          subject,
          requestId: null,
          actor: subject,
          purpose,
          details: '{}',
        });
        audit(c, change === 'grant' ? 'CONSENT_GRANTED' : 'CONSENT_WITHDRAWN', subject, { purpose });
        const record = service.consentsOf(subject).find((r) => r.purpose === purpose)!;
        return c.json(consentOut(record), 200);
      },
    );
  }

  // ---- subscribers' requests ----
  app.openapi(
    createRoute({
      method: 'post',
      path: `${BASE}/access-request`,
      tags,
      summary: 'File a data-subject request for a subscriber (Admin, Operator, ServiceProvider)',
      description: `Types: ${SUBSCRIBER_REQUEST_TYPES.join(', ')}. The NIN is checked by its token against the number’s linkages and never stored; the due date is ${RESPONSE_DAYS} days from filing.`,
      security: bearer,
      middleware: [filers, access, body],
      request: { body: { content: json(AccessRequestIn), required: true } },
      responses: {
        201: { description: 'The filed request', content: json(RequestOut) },
        ...reconixErrors([400, 401, 403, 413, 415, 422, 429, 503], {
          422: 'The number and NIN do not identify a subscriber the hub holds (code SUBJECT_NOT_MATCHED)',
        }),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const p = c.get('principal');
      const [reading] = await ctx.readState([input.msisdn]);
      const token = tokenise('NIN', input.nin, ctx.ingest.tokenSecret);
      const linked = reading?.record?.nin.some((l) => l.token === token) ?? false;
      if (!linked) {
        audit(c, 'DATA_SUBJECT_REQUEST_REFUSED', input.msisdn, {
          type: input.type,
          reason: 'SUBJECT_NOT_MATCHED',
        });
        return reconixError(
          c,
          'SUBJECT_NOT_MATCHED',
          'the number and the NIN given do not identify a data subject the hub holds',
        );
      }
      const id = randomUUID();
      await service.publish({
        type: 'REQUEST_FILED',
        subjectType: 'SUBSCRIBER',
        subject: input.msisdn,
        requestId: id,
        actor: actorOf(p),
        purpose: null,
        details: JSON.stringify({
          type: input.type,
          organisation: p.organisation,
          dueDate: dueDate(ctx.now()),
          ...(input.note ? { note: input.note } : {}),
        }),
      });
      audit(c, 'DATA_SUBJECT_REQUEST_FILED', input.msisdn, { requestId: id, type: input.type });
      return c.json(requestOut(service.request(id)!), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: `${BASE}/requests`,
      tags,
      summary: 'Data-subject requests (Admin), newest first',
      security: bearer,
      middleware: [admin, access],
      request: {
        query: z.object({
          status: z
            .enum(REQUEST_STATUSES, { error: `must be one of ${REQUEST_STATUSES.join(', ')}` })
            .optional(),
        }),
      },
      responses: {
        200: {
          description: 'Requests',
          content: json(
            z
              .object({ items: z.array(RequestOut), total: z.number(), skip: z.number(), limit: z.number() })
              .openapi('DataSubjectRequestPage'),
          ),
        },
        ...reconixErrors([400, 401, 403, 429, 503]),
      },
    }),
    async (c) => {
      await service.ready();
      const { status } = c.req.valid('query');
      const items = service.list(status ? { status } : {}).map(requestOut);
      return c.json({ items: items.slice(0, 100), total: items.length, skip: 0, limit: 100 }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: `${BASE}/requests/{id}`,
      tags,
      summary: 'One data-subject request: its filer or an Admin',
      security: bearer,
      middleware: [anyone, access],
      request: { params: IdParam },
      responses: {
        200: { description: 'The request', content: json(RequestOut) },
        ...reconixErrors([400, 401, 403, 404, 429, 503]),
      },
    }),
    async (c) => {
      await service.ready();
      const p = c.get('principal');
      const r = service.request(c.req.valid('param').id);
      const mine = r && (r.filedBy === actorOf(p) || (p.roles ?? []).includes('Admin'));
      if (!r || !mine)
        return reconixError(c, 'NOT_FOUND', 'no data-subject request with this id is visible to the caller');
      return c.json(requestOut(r), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: `${BASE}/requests/{id}/assign`,
      tags,
      summary: 'Assign a request to an admin (Admin)',
      security: bearer,
      middleware: [admin, access, body],
      request: {
        params: IdParam,
        body: {
          content: json(
            z
              .object({ assignee: z.string().min(1).max(200).openapi({ example: 'user:6b1f…' }) })
              .openapi('Assignment'),
          ),
          required: true,
        },
      },
      responses: {
        200: { description: 'The request', content: json(RequestOut) },
        ...reconixErrors([400, 401, 403, 404, 409, 413, 415, 429, 503]),
      },
    }),
    async (c) => {
      await service.ready();
      const r = service.request(c.req.valid('param').id);
      if (!r) return reconixError(c, 'NOT_FOUND', 'no data-subject request has this id');
      if (r.status === 'COMPLETED' || r.status === 'REJECTED')
        return reconixError(
          c,
          'ILLEGAL_TRANSITION',
          `the request is ${r.status}; only an open request can be assigned`,
        );
      const { assignee } = c.req.valid('json');
      await service.publish({
        type: 'REQUEST_ASSIGNED',
        subjectType: r.subjectType,
        subject: r.subject,
        requestId: r.id,
        actor: actorOf(c.get('principal')),
        purpose: null,
        details: JSON.stringify({ assignee }),
      });
      audit(
        c,
        'DATA_SUBJECT_REQUEST_ASSIGNED',
        r.subjectType === 'SUBSCRIBER' ? r.subject : `user:${r.subject}`,
        { requestId: r.id, assignee },
      );
      return c.json(requestOut(service.request(r.id)!), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: `${BASE}/requests/{id}/fulfil`,
      tags,
      summary: 'Fulfil a request (Admin): ACCESS returns the holdings; ERASURE and ACCOUNT_ERASURE erase',
      security: bearer,
      middleware: [admin, access],
      request: { params: IdParam },
      responses: {
        200: {
          description: 'The completed request; `outcome` holds what was returned or erased',
          content: json(RequestOut),
        },
        ...reconixErrors([400, 401, 403, 404, 409, 429, 503]),
      },
    }),
    async (c) => {
      await service.ready();
      const p = c.get('principal');
      const r = service.request(c.req.valid('param').id);
      if (!r) return reconixError(c, 'NOT_FOUND', 'no data-subject request has this id');
      if (r.status === 'COMPLETED' || r.status === 'REJECTED')
        return reconixError(c, 'ILLEGAL_TRANSITION', `the request is already ${r.status}`);
      let outcome: Record<string, unknown>;
      switch (r.type) {
        case 'ACCESS':
          outcome = { holdings: await subscriberHoldings(ctx, r.subject) };
          break;
        case 'ERASURE':
          await service.eraseSubscriber(r.subject, r.id, actorOf(p));
          outcome = SUBSCRIBER_ERASURE_EFFECT;
          break;
        case 'ACCOUNT_ERASURE': {
          const user = await ctx.security.store.user(r.subject);
          if (user) await ctx.security.deleteUser(actorOf(p), user.id);
          await service.publish({
            type: 'ACCOUNT_ERASED',
            subjectType: 'ACCOUNT',
            subject: r.filedBy,
            requestId: r.id,
            actor: actorOf(p),
            purpose: null,
            details: '{}',
          });
          outcome = ACCOUNT_ERASURE_EFFECT;
          break;
        }
        default:
          // RECTIFICATION and OBJECTION are decided by the desk; fulfilling records that it was done.
          outcome = { recorded: `${r.type} handled by ${actorOf(p)}` };
      }
      await service.publish({
        type: 'REQUEST_FULFILLED',
        subjectType: r.subjectType,
        subject: r.subject,
        requestId: r.id,
        actor: actorOf(p),
        purpose: null,
        details: JSON.stringify({ outcome }),
      });
      audit(
        c,
        'DATA_SUBJECT_REQUEST_FULFILLED',
        r.subjectType === 'SUBSCRIBER' ? r.subject : `user:${r.subject}`,
        {
          requestId: r.id,
          type: r.type,
        },
      );
      return c.json(requestOut(service.request(r.id)!), 200);
    },
  );

  return service;
}

function consentOut(r: { purpose: string; granted: boolean; changedAt: number; actor: string }) {
  return { purpose: r.purpose, granted: r.granted, changed_at: iso(r.changedAt), actor: r.actor };
}

async function query<T>(ctx: ApiContext, sql: string): Promise<T[]> {
  const result = await ctx.clickhouseRead.query({ query: sql, format: 'JSONEachRow' });
  return result.json<T>();
}

/** The caller's data across the stores: the account store (Kafka-derived), the data-subject topic, ClickHouse. */
async function exportOf(ctx: ApiContext, service: DataSubjectService, p: Principal) {
  const db = quoteIdentifier(ctx.config.CLICKHOUSE_DATABASE);
  const actor = actorOf(p);
  const organisation = await ctx.security.store.organisation(p.organisation);
  const keys = await ctx.security.store.organisationKeys(p.organisation);
  const user = p.userId ? await ctx.security.store.user(p.userId) : null;
  const ended = p.userId ? await ctx.redis.get(ctx.security.keys.sessionsEnded(p.userId)) : null;
  const auditFilter = p.userId
    ? `actor = ${sqlString(actor)}`
    : `organisation = ${sqlString(p.organisation)}`;
  const auditRows = await query<Record<string, unknown>>(
    ctx,
    `SELECT event_id AS id, actor, action, target, toString(outcome) AS outcome, toString(occurred_at) AS occurred_at FROM ${db}.${RAW_TABLES.audit} WHERE ${auditFilter} ORDER BY occurred_at DESC LIMIT 1 BY event_id LIMIT 1000`,
  );
  const keyMeta = keys
    .filter((k) => (p.userId ? k.createdBy === actor : true))
    .map((k) => ({
      id: k.id,
      name: k.name,
      prefix: k.prefix,
      created_at: iso(k.createdAt),
      created_by: k.createdBy,
      expires_at: k.expiresAt === null ? null : iso(k.expiresAt),
      revoked_at: k.revokedAt === null ? null : iso(k.revokedAt),
    }));
  const requests = service.list({ filedBy: actor }).map(requestOut);
  return {
    exported_at: iso(ctx.now()),
    subject: actor,
    view: p.userId ? 'account' : 'organisation',
    sources: {
      accounts: 'the accounts topic, projected into Redis',
      data_subject: 'the data-subject topic',
      audit: 'ClickHouse audit trail',
      sessions: 'Redis session markers',
    },
    account: user
      ? {
          id: user.id,
          email: user.email,
          name: user.name,
          role: user.role,
          active: user.active,
          password_changed_at: iso(user.passwordChangedAt),
        }
      : null,
    role: user?.role ?? null,
    organisation: organisation
      ? { id: organisation.id, name: organisation.name, type: organisation.type }
      : { id: p.organisation },
    sessions: p.userId
      ? {
          current: p.sessionId ? { id: p.sessionId, status: 'active' } : null,
          all_ended_before: ended ? iso(Number(ended)) : null,
          note: 'sessions are signed tokens; the hub keeps only revocations, so earlier sessions are listed as ended when all_ended_before is set',
        }
      : null,
    api_keys: keyMeta,
    audit_entries: auditRows,
    consents: service.consentsOf(actor).map(consentOut),
    data_subject_requests: requests,
  };
}

/** What the hub holds on a number: status, masked linkages, history, verifications by organisation. */
async function subscriberHoldings(ctx: ApiContext, msisdn: string) {
  const db = quoteIdentifier(ctx.config.CLICKHOUSE_DATABASE);
  const [reading] = await ctx.readState([msisdn]);
  const m = sqlString(msisdn);
  const [statuses, verifications] = await Promise.all([
    query<Record<string, unknown>>(
      ctx,
      `SELECT toString(status) AS status, operator, toString(occurrence_date) AS occurrence_date FROM ${db}.${RAW_TABLES['status-update']} WHERE msisdn = ${m} ORDER BY occurred_at LIMIT 1 BY event_id LIMIT 1000`,
    ),
    query<Record<string, unknown>>(
      ctx,
      `SELECT organisation, uniqExact(event_id) AS calls, toString(max(occurred_at)) AS last_at FROM ${db}.${RAW_TABLES.verification} WHERE msisdn = ${m} GROUP BY organisation ORDER BY organisation`,
    ),
  ]);
  const view = reading?.view ?? null;
  return {
    msisdn: maskMsisdn(msisdn),
    state: view
      ? {
          telecom_status: view.telecomStatus,
          lifecycle_status: view.lifecycleStatus,
          operator: view.operator,
          is_recycled: view.isRecycled,
        }
      : null,
    nin_linkages: (reading?.record?.nin ?? []).map((l) => ({
      masked: l.masked,
      link_date: l.linkDate,
      unlinked_date: l.unlinkedDate,
    })),
    bvn_linkages: (reading?.record?.bvn ?? []).map((l) => ({
      masked: l.masked,
      link_date: l.linkDate,
      unlinked_date: l.unlinkedDate,
    })),
    status_history: statuses,
    verifications_by_organisation: verifications,
  };
}
