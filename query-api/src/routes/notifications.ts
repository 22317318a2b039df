import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  actorOf,
  createSurfaceApp,
  fieldFailure,
  jsonBody,
  type Principal,
  reconixError,
  reconixErrors,
  requireAuth,
  rolesOf,
} from '@hub/ingest';
import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_STATUSES,
  type NotificationEvent,
  RECIPIENT_TYPES,
  render,
  TEMPLATES,
  type TemplateName,
} from '@hub/outbound';
import { allocatedOperator } from '@hub/schemas';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { msisdnField } from '../identity/http.ts';
import { PageQuery, pageOf } from '../pagination.ts';

const BODY_BYTES = 16 * 1024;
const security = [{ Bearer: [] }];
const TEMPLATE_NAMES = Object.keys(TEMPLATES).filter((t) => t !== 'PASSWORD_RESET') as [
  TemplateName,
  ...TemplateName[],
];

const oneOf = (values: readonly string[]) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined
      ? undefined
      : `must be one of ${values.join(', ')}; got '${String(issue.input).slice(0, 40)}'`,
});

const NotificationView = z
  .object({
    id: z.string().openapi({ example: 'ntf_8c1d2f6a4b3e4f0a9d7c' }),
    recipient_type: z.enum(RECIPIENT_TYPES),
    recipient: z
      .string()
      .nullable()
      .openapi({ description: 'Phone number, e-mail address or organisation id' }),
    channel: z.enum(NOTIFICATION_CHANNELS),
    msisdn: z.string().nullable(),
    template: z.string().nullable(),
    message: z.string(),
    subject: z.string().nullable(),
    organisation: z.string().nullable(),
    status: z.enum(NOTIFICATION_STATUSES).openapi({
      description:
        'QUEUED → SENT → DELIVERED, or FAILED. Over WEBHOOK: SENT once queued to the organisation’s endpoints, DELIVERED when one answered 2xx, FAILED when the retry schedule is spent',
    }),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Notification');

const Send = z
  .object({
    recipient_type: z.enum(RECIPIENT_TYPES, oneOf(RECIPIENT_TYPES)).openapi({ example: 'SUBSCRIBER' }),
    channel: z.enum(NOTIFICATION_CHANNELS, oneOf(NOTIFICATION_CHANNELS)).optional().openapi({
      description: 'Default: SMS for SUBSCRIBER and NEXT_OF_KIN, WEBHOOK for OPERATOR and NIBSS',
    }),
    recipient: z.string().min(3).max(254).optional().openapi({
      description:
        'Phone number (SMS), e-mail address (EMAIL) or organisation id (WEBHOOK). Default: the number itself for SUBSCRIBER, its operator for OPERATOR, NIBSS for NIBSS',
    }),
    msisdn: msisdnField()
      .optional()
      .openapi({ description: 'The number the notification concerns', example: '08031234567' }),
    template: z.enum(TEMPLATE_NAMES, oneOf(TEMPLATE_NAMES)).optional(),
    message: z.string().min(1).max(1000).optional().openapi({ example: 'Your number was reassigned.' }),
    subject: z.string().max(200).optional(),
  })
  .strict()
  .openapi('NotificationRequest');

const list = createRoute({
  method: 'get',
  path: '/api/v1/notifications',
  tags: ['Notifications'],
  summary: 'Notifications, newest first (an Admin or Auditor sees all; others those of their organisation)',
  security,
  request: {
    query: z.object({
      ...PageQuery,
      status: z.enum(NOTIFICATION_STATUSES, oneOf(NOTIFICATION_STATUSES)).optional(),
      recipient_type: z.enum(RECIPIENT_TYPES, oneOf(RECIPIENT_TYPES)).optional(),
      channel: z.enum(NOTIFICATION_CHANNELS, oneOf(NOTIFICATION_CHANNELS)).optional(),
      msisdn: msisdnField().optional(),
    }),
  },
  responses: {
    200: {
      description: 'Page of notifications',
      content: { 'application/json': { schema: pageOf(NotificationView) } },
    },
    ...reconixErrors([400, 401, 403]),
  },
});

const detail = createRoute({
  method: 'get',
  path: '/api/v1/notifications/{id}',
  tags: ['Notifications'],
  summary: 'Notification detail, with its status and attempts',
  security,
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: {
    200: { description: 'The notification', content: { 'application/json': { schema: NotificationView } } },
    ...reconixErrors([401, 403, 404]),
  },
});

const send = createRoute({
  method: 'post',
  path: '/api/v1/notifications',
  tags: ['Notifications'],
  summary: 'Send a notification (Admin/Operator); answered QUEUED, delivered by the outbound worker',
  security,
  middleware: [jsonBody(BODY_BYTES)] as const,
  request: { body: { content: { 'application/json': { schema: Send } }, required: true } },
  responses: {
    202: { description: 'Queued', content: { 'application/json': { schema: NotificationView } } },
    ...reconixErrors([400, 401, 403, 413, 415]),
  },
});

function view(n: NotificationEvent): z.infer<typeof NotificationView> {
  return {
    id: n.id,
    recipient_type: n.recipientType,
    recipient: n.recipient,
    channel: n.channel,
    msisdn: n.msisdn,
    template: n.template,
    message: n.message,
    subject: n.subject,
    organisation: n.organisation,
    status: n.status,
    attempts: n.attempts,
    last_error: n.lastError,
    created_by: n.actor,
    created_at: new Date(n.createdAt).toISOString(),
    updated_at: new Date(n.occurredAt).toISOString(),
  };
}

const seesAll = (p: Principal) => rolesOf(p).some((r) => r === 'Admin' || r === 'Auditor');

/**
 * Whether `p` may see `n`: an Admin or Auditor every one; others their organisation's, and an
 * operator also those the workflow addressed to its operator code (`MTN`).
 */
const maySee = (p: Principal, n: NotificationEvent) =>
  seesAll(p) ||
  n.organisation === p.organisation ||
  (p.operatorCode !== null && n.organisation === p.operatorCode && rolesOf(p).includes('Operator'));

/**
 * Reconix notifications. A request is an event on the notifications topic (QUEUED); the outbound
 * worker sends it through the channel's adapter (SMS gateway, SMTP, webhook) and records SENT,
 * DELIVERED or FAILED the same way; the list and detail read the worker's projection.
 */
export function registerNotificationRoutes(app: ApiApp, ctx: ApiContext): void {
  const api = ctx.webhooks?.notifications;
  if (!api) return;
  const sub = createSurfaceApp<ApiEnv>();
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });
  const senders = requireAuth<ApiEnv>(ctx.ingest, { roles: ['Admin', 'Operator'] });
  sub.on('POST', send.path, senders);
  sub.on('GET', [list.path, '/api/v1/notifications/*'], anyone);

  sub.openapi(send, async (c) => {
    const p = c.get('principal');
    const b = c.req.valid('json');
    if (!b.template && !b.message)
      return fieldFailure(c, [{ field: 'message', message: 'give a message or a template' }]) as never;
    const channel =
      b.channel ??
      (b.recipient_type === 'SUBSCRIBER' || b.recipient_type === 'NEXT_OF_KIN' ? 'SMS' : 'WEBHOOK');
    let recipient = b.recipient ?? null;
    let organisation: string | null = p.organisation;
    if (b.recipient_type === 'SUBSCRIBER' && channel === 'SMS') recipient ??= b.msisdn ?? null;
    if (b.recipient_type === 'NIBSS' && channel === 'WEBHOOK') recipient ??= 'NIBSS';
    if (b.recipient_type === 'OPERATOR' && channel === 'WEBHOOK' && !recipient && b.msisdn) {
      const code = allocatedOperator(b.msisdn)?.code;
      const orgs = await ctx.security.store.organisations();
      recipient = orgs.find((o) => o.type === 'OPERATOR' && o.operatorCode === code)?.id ?? null;
      if (!recipient)
        return fieldFailure(c, [
          {
            field: 'recipient',
            message: `no operator organisation holds ${code ?? 'this number'}'s range; name one`,
          },
        ]) as never;
    }
    if (!recipient)
      return fieldFailure(c, [
        { field: 'recipient', message: `is required for ${b.recipient_type} over ${channel}` },
      ]) as never;
    if (channel === 'EMAIL' && !/^[^@\s]+@[^@\s]+$/.test(recipient))
      return fieldFailure(c, [
        { field: 'recipient', message: 'must be an e-mail address for EMAIL' },
      ]) as never;
    if (channel === 'SMS' && !/^\+?\d{10,15}$/.test(recipient))
      return fieldFailure(c, [{ field: 'recipient', message: 'must be a phone number for SMS' }]) as never;
    if (channel === 'WEBHOOK') {
      if (!(await ctx.security.store.organisation(recipient)))
        return fieldFailure(c, [{ field: 'recipient', message: `no organisation ${recipient}` }]) as never;
      organisation = recipient;
    }
    const rendered = b.template ? render(b.template, { msisdn: b.msisdn ?? '' }) : null;
    const now = ctx.now();
    const n: NotificationEvent = {
      eventId: randomUUID(),
      source: 'API',
      id: `ntf_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      recipientType: b.recipient_type,
      recipient,
      channel,
      msisdn: b.msisdn ?? null,
      template: b.template ?? null,
      message: b.message ?? rendered!.text,
      subject: b.subject ?? rendered?.subject ?? null,
      organisation,
      status: 'QUEUED',
      attempts: 0,
      lastError: null,
      actor: actorOf(p),
      createdAt: now,
      occurredAt: now,
      receivedAt: now,
    };
    await api.publish(n);
    return c.json(view(n), 202);
  });

  sub.openapi(list, async (c) => {
    const p = c.get('principal');
    const q = c.req.valid('query');
    const all = await api.store.recent();
    const items = all.filter(
      (n) =>
        maySee(p, n) &&
        (!q.status || n.status === q.status) &&
        (!q.recipient_type || n.recipientType === q.recipient_type) &&
        (!q.channel || n.channel === q.channel) &&
        (!q.msisdn || n.msisdn === q.msisdn),
    );
    return c.json(
      {
        items: items.slice(q.skip, q.skip + q.limit).map(view),
        total: items.length,
        skip: q.skip,
        limit: q.limit,
      },
      200,
    );
  });

  sub.openapi(detail, async (c) => {
    const p = c.get('principal');
    const { id } = c.req.valid('param');
    const n = await api.store.get(id);
    if (!n || !maySee(p, n)) return reconixError(c, 'NOT_FOUND', `no notification ${id}`) as never;
    return c.json(view(n), 200);
  });

  app.route('/', sub);
}
