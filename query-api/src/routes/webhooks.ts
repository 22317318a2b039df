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
  checkTargetUrl,
  DEFAULT_SCHEDULE_SECONDS,
  describeSchedule,
  type Subscription,
  WEBHOOK_EVENT_TYPES,
} from '@hub/outbound';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import type { WebhookApi } from '../outbound/webhooks.ts';
import { PageQuery, pageOf } from '../pagination.ts';

const BODY_BYTES = 16 * 1024;
const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
const security = [{ Bearer: [] }];

const SubscriptionView = z
  .object({
    id: z.string().openapi({ example: 'whsub_5b0c0e0a2f1d4c7e9a31' }),
    organisation: z.string().openapi({ example: 'FIRSTBANK' }),
    url: z.string().openapi({ example: 'https://hooks.firstbank.example/msisdn' }),
    events: z.array(z.string()).openapi({ example: ['CHURNED', 'SWAPPED'] }),
    description: z.string().nullable(),
    active: z.boolean(),
    status: z.enum(['ACTIVE', 'DELETED', 'DISABLED']),
    createdAt: z.string(),
    createdBy: z.string(),
    deletedAt: z.string().nullable(),
    disabledAt: z.string().nullable(),
    disabledReason: z.string().nullable(),
    secretsInOverlap: z
      .number()
      .int()
      .openapi({ description: 'Older secrets still accepted after a rotation' }),
  })
  .openapi('WebhookSubscription');

const WithSecret = SubscriptionView.extend({
  secret: z.string().openapi({
    description: 'The signing secret (Standard Webhooks `whsec_…`): shown in this answer only, never again',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).openapi('WebhookSubscriptionWithSecret');

const Register = z
  .object({
    url: z.string().max(2048).openapi({
      description:
        'Where events are POSTed: https in production; loopback and private addresses only if allowlisted',
      example: 'https://hooks.firstbank.example/msisdn',
    }),
    events: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .min(1, { error: 'must pick at least one event' })
      .max(WEBHOOK_EVENT_TYPES.length)
      .openapi({ example: ['CHURNED', 'SWAPPED', 'REASSIGNED', 'RECYCLED'] }),
    description: z.string().max(200).optional().openapi({ example: 'fraud desk' }),
    organisation: z
      .string()
      .max(32)
      .optional()
      .openapi({ description: 'Admins only: register for another organisation' }),
  })
  .strict()
  .openapi('WebhookRegistration');

const Rotate = z
  .object({
    overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(86_400).openapi({
      description: 'How long signatures with the previous secret keep being sent alongside the new one',
    }),
  })
  .strict();

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

const Delivery = z
  .object({
    eventId: z.string(),
    type: z.string().openapi({ description: 'ATTEMPT or REDELIVERY_REQUESTED' }),
    webhookId: z.string().openapi({ description: 'The webhook-id header; the same on every attempt' }),
    eventType: z.string().openapi({ example: 'CHURNED' }),
    msisdn: z.string(),
    sequence: z.number().int(),
    attempt: z.number().int(),
    outcome: z.string().openapi({
      description:
        'DELIVERED; FAILED (retried at nextAttemptAt); EXHAUSTED (schedule spent); DROPPED; REQUESTED',
    }),
    httpStatus: z.number().int().nullable(),
    latencyMs: z.number().int(),
    error: z.string().nullable(),
    response: z.string().nullable().openapi({ description: 'First 256 characters of the answer' }),
    nextAttemptAt: z.string().nullable(),
    url: z.string(),
    occurredAt: z.string(),
  })
  .openapi('WebhookDelivery');

/** The body every webhook POST carries (CloudEvents 1.0, structured mode), for receivers' code. */
export const WebhookEventSchema = z
  .object({
    specversion: z.literal('1.0'),
    id: z
      .string()
      .openapi({ description: 'Equals the webhook-id header', example: 'msg_2hQ8d1Yb3bqkV6x0pX1kqR8nA0c' }),
    source: z.literal('urn:ng:msisdn-hub'),
    type: z.string().openapi({ example: 'ng.hub.msisdn.churned' }),
    subject: z.string().openapi({ description: 'The canonical MSISDN', example: '2348012345678' }),
    time: z.string().openapi({ example: '2026-12-01T09:30:00.000Z' }),
    datacontenttype: z.literal('application/json'),
    sequence: z
      .string()
      .openapi({ description: "The number's state version; order one number's events by it" }),
    data: z.object({
      phoneNumber: z.string().openapi({ example: '2348012345678' }),
      status: z.string().nullable().openapi({ example: 'CHURNED' }),
      previousStatus: z.string().nullable().openapi({ example: 'BLACKLISTED' }),
      occurrenceOfStatusDate: z.string().nullable().openapi({ example: '2026-12-01' }),
      reassignmentDate: z.string().nullable(),
      mobileNetwork: z.string().nullable().openapi({ example: 'MTN' }),
      event: z.enum(WEBHOOK_EVENT_TYPES),
      lifecycleStatus: z.string().nullable(),
      previousLifecycleStatus: z.string().nullable(),
      sequence: z.number().int(),
    }),
  })
  .openapi('WebhookEvent', {
    description: `POSTed with Content-Type application/cloudevents+json and the Standard Webhooks headers webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 over "id.timestamp.body"; during a secret rotation one signature per live secret, space-separated). A 2xx within 10 s is delivered; otherwise retried after ${describeSchedule(DEFAULT_SCHEDULE_SECONDS)}, each with ±20% jitter.`,
  });

/** The body of a delink-outcome webhook (DELINK_APPROVED … DELINK_CANCELLED), CloudEvents 1.0 like a status change. */
export const DelinkWebhookEventSchema = z
  .object({
    specversion: z.literal('1.0'),
    id: z.string().openapi({ description: 'Equals the webhook-id header' }),
    source: z.literal('urn:ng:msisdn-hub'),
    type: z.string().openapi({ example: 'ng.hub.msisdn.delink_completed' }),
    subject: z.string().openapi({ description: 'The canonical MSISDN', example: '2348012345678' }),
    time: z.string().openapi({ description: 'When the step occurred', example: '2026-12-01T09:30:00.000Z' }),
    datacontenttype: z.literal('application/json'),
    sequence: z.string().openapi({
      description:
        "The event's position in the delink log; order one number's delink events by it (a sequence of its own, not the state version)",
    }),
    data: z.object({
      phoneNumber: z.string().openapi({ example: '2348012345678' }),
      event: z.enum([
        'DELINK_APPROVED',
        'DELINK_REJECTED',
        'DELINK_COMPLETED',
        'DELINK_FAILED',
        'DELINK_CANCELLED',
      ]),
      requestId: z.string(),
      status: z.string().openapi({ description: "The request's state after the step", example: 'COMPLETED' }),
      previousStatus: z.string().nullable().openapi({ example: 'PROCESSING' }),
      scope: z.enum(['NIN', 'BVN', 'ALL']),
      reason: z.string().nullable(),
      linkages: z.array(z.string()).openapi({
        description: "The previous owner's linkages the request clears, masked",
        example: ['123****8901'],
      }),
      attempt: z.number().int(),
      occurrenceOfStatusDate: z.string().openapi({ example: '2026-12-01' }),
      mobileNetwork: z.string().nullable().openapi({ example: 'MTN' }),
      sequence: z.number().int(),
    }),
  })
  .openapi('DelinkWebhookEvent', {
    description:
      "Sent for the delink outcomes a subscription picked, to the organisations watching the number (they verified it) and to the number's operator; only steps the workflow applied (a command that lost a race is not sent). Same headers, signing and retries as WebhookEvent.",
  });

/** The body of a notification delivered over an organisation's webhooks (OPERATOR and NIBSS recipients). */
export const NotificationWebhookEventSchema = z
  .object({
    specversion: z.literal('1.0'),
    id: z.string().openapi({ description: 'Equals the webhook-id header' }),
    source: z.literal('urn:ng:msisdn-hub'),
    type: z.literal('ng.hub.notification'),
    subject: z.string().openapi({ description: 'The MSISDN the notification concerns, else its id' }),
    time: z.string(),
    datacontenttype: z.literal('application/json'),
    data: z.object({
      notificationId: z.string(),
      recipientType: z.enum(['SUBSCRIBER', 'OPERATOR', 'NEXT_OF_KIN', 'NIBSS']),
      phoneNumber: z.string().nullable(),
      template: z.string().nullable().openapi({ example: 'RECYCLED_SIM_DETECTED' }),
      subject: z.string().nullable(),
      message: z.string(),
    }),
  })
  .openapi('NotificationWebhookEvent', {
    description:
      'Sent to every active subscription of the recipient organisation (an operator is found by its operator code), whatever events it picked. The notification is DELIVERED once an endpoint answered 2xx, FAILED once the retry schedule is spent (GET /api/v1/notifications/{id}).',
  });

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function view(s: Subscription, now: number): z.infer<typeof SubscriptionView> {
  return {
    id: s.id,
    organisation: s.organisation,
    url: s.url,
    events: s.events,
    description: s.description,
    active: s.active,
    status: s.active ? 'ACTIVE' : s.deletedAt !== null ? 'DELETED' : 'DISABLED',
    createdAt: new Date(s.createdAt).toISOString(),
    createdBy: s.createdBy,
    deletedAt: iso(s.deletedAt),
    disabledAt: iso(s.disabledAt),
    disabledReason: s.disabledReason,
    secretsInOverlap: s.secrets.filter((x) => x.expiresAt !== null && x.expiresAt > now).length,
  };
}

const isAdmin = (p: Principal) => rolesOf(p).includes('Admin');

/**
 * Who may change subscriptions: a person with Admin or Operator (Reconix), or any organisation's
 * API key for its own (banks integrate with keys); an Admin for any organisation.
 */
function manager(p: Principal): string | null {
  if (p.userId && !rolesOf(p).some((r) => r === 'Admin' || r === 'Operator'))
    return `managing webhooks needs the Admin or Operator role, or the organisation's API key; the caller holds ${rolesOf(p).join(', ') || 'none'}`;
  return null;
}

const register = createRoute({
  method: 'post',
  path: '/api/v1/webhooks/register',
  tags: ['Webhooks'],
  summary:
    'Register a webhook: a URL and the events that trigger it (the signing secret is in this answer only)',
  security,
  middleware: [jsonBody(BODY_BYTES)] as const,
  request: { body: { content: { 'application/json': { schema: Register } }, required: true } },
  responses: {
    201: { description: 'Registered', content: { 'application/json': { schema: WithSecret } } },
    ...reconixErrors([400, 401, 403, 413, 415], {
      400: 'Invalid body, or a refused URL (`errors[0].message` says why)',
    }),
  },
});

const list = createRoute({
  method: 'get',
  path: '/api/v1/webhooks/subscriptions',
  tags: ['Webhooks'],
  summary: "Your organisation's subscriptions; an Admin sees every organisation's",
  security,
  request: {
    query: z.object({
      ...PageQuery,
      organisation: z.string().max(32).optional().openapi({ description: 'Admins: only this organisation' }),
    }),
  },
  responses: {
    200: {
      description: 'Page of subscriptions',
      content: { 'application/json': { schema: pageOf(SubscriptionView) } },
    },
    ...reconixErrors([400, 401, 403]),
  },
});

const remove = createRoute({
  method: 'delete',
  path: '/api/v1/webhooks/subscriptions/{id}',
  tags: ['Webhooks'],
  summary: 'Deactivate a subscription (Admin, or the owning organisation); its queued messages are dropped',
  security,
  request: { params: IdParam },
  responses: {
    200: { description: 'Deactivated', content: { 'application/json': { schema: SubscriptionView } } },
    ...reconixErrors([400, 401, 403, 404]),
  },
});

const rotate = createRoute({
  method: 'post',
  path: '/api/v1/webhooks/subscriptions/{id}/rotate-secret',
  tags: ['Webhooks'],
  summary: 'A new signing secret; the previous one keeps signing alongside it for overlapSeconds',
  security,
  middleware: [jsonBody(BODY_BYTES)] as const,
  request: { params: IdParam, body: { content: { 'application/json': { schema: Rotate } }, required: true } },
  responses: {
    201: {
      description: 'Rotated; the new secret is in this answer only',
      content: { 'application/json': { schema: WithSecret } },
    },
    ...reconixErrors([400, 401, 403, 404, 409, 413, 415]),
  },
});

const deliveries = createRoute({
  method: 'get',
  path: '/api/v1/webhooks/subscriptions/{id}/deliveries',
  tags: ['Webhooks'],
  summary: 'The delivery log of a subscription: every attempt, newest first',
  security,
  request: { params: IdParam, query: z.object(PageQuery) },
  responses: {
    200: { description: 'Page of attempts', content: { 'application/json': { schema: pageOf(Delivery) } } },
    ...reconixErrors([400, 401, 403, 404]),
  },
});

const redeliver = createRoute({
  method: 'post',
  path: '/api/v1/webhooks/subscriptions/{id}/deliveries/{webhookId}/redeliver',
  tags: ['Webhooks'],
  summary: 'Send a logged message again, with the same webhook-id (the worker queues it)',
  security,
  request: {
    params: IdParam.extend({
      webhookId: z
        .string()
        .min(1)
        .max(64)
        .openapi({ param: { name: 'webhookId', in: 'path' } }),
    }),
  },
  responses: {
    202: {
      description: 'Requested',
      content: {
        'application/json': { schema: z.object({ webhookId: z.string(), status: z.literal('REQUESTED') }) },
      },
    },
    ...reconixErrors([400, 401, 403, 404, 409]),
  },
});

/**
 * Webhook subscriptions (TIRMS "Webhook Setup", Reconix /webhooks). Changes are events on the
 * webhook-subscriptions topic, answered once this instance's projection holds them; nothing here
 * calls a receiver (the outbound worker does). `POST /api/v1/webhooks/receive` (identity feeds)
 * is ingest's and is left alone.
 */
export function registerWebhookRoutes(app: ApiApp, ctx: ApiContext): void {
  const api = ctx.webhooks;
  if (!api) return;
  const w: WebhookApi = api;
  const sub = createSurfaceApp<ApiEnv>();
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });
  sub.openAPIRegistry.register('WebhookEvent', WebhookEventSchema);
  sub.openAPIRegistry.register('DelinkWebhookEvent', DelinkWebhookEventSchema);
  sub.openAPIRegistry.register('NotificationWebhookEvent', NotificationWebhookEventSchema);

  /** The subscription if the caller may see it (Admin, or its organisation); else a 404 answer. */
  async function visible(c: Context<ApiEnv>, id: string): Promise<Subscription | Response> {
    const p = c.get('principal');
    const s = await w.store.get(id);
    if (!s || (!isAdmin(p) && s.organisation !== p.organisation))
      return reconixError(c, 'NOT_FOUND', `no webhook subscription ${id}`);
    return s;
  }

  async function managed(c: Context<ApiEnv>, id: string): Promise<Subscription | Response> {
    const refused = manager(c.get('principal'));
    if (refused) return reconixError(c, 'FORBIDDEN', refused);
    return visible(c, id);
  }

  sub.use(register.path, anyone);
  sub.use('/api/v1/webhooks/subscriptions', anyone);
  sub.use('/api/v1/webhooks/subscriptions/*', anyone);

  sub.openapi(register, async (c) => {
    const p = c.get('principal');
    const refused = manager(p);
    if (refused) return reconixError(c, 'FORBIDDEN', refused) as never;
    const body = c.req.valid('json');
    if (body.organisation && body.organisation !== p.organisation && !isAdmin(p))
      return reconixError(
        c,
        'FORBIDDEN',
        'only hub Admins register webhooks for other organisations',
      ) as never;
    const organisation = body.organisation ?? p.organisation;
    if (body.organisation && !(await ctx.security.store.organisation(organisation)))
      return fieldFailure(c, [
        { field: 'organisation', message: `no organisation ${organisation}` },
      ]) as never;
    const target = await checkTargetUrl(body.url, w.urlPolicy);
    if (!target.ok) return fieldFailure(c, [{ field: 'url', message: target.reason }]) as never;
    const { subscription, secret } = await w.commands.register(actorOf(p), {
      organisation,
      url: target.url.toString(),
      events: body.events,
      description: body.description ?? null,
    });
    return c.json({ ...view(subscription, ctx.now()), secret }, 201);
  });

  sub.openapi(list, async (c) => {
    const p = c.get('principal');
    const q = c.req.valid('query');
    const all = await w.store.all();
    const scope = isAdmin(p) ? (q.organisation ?? null) : p.organisation;
    const mine = scope === null ? all : all.filter((s) => s.organisation === scope);
    const now = ctx.now();
    return c.json(
      {
        items: mine.slice(q.skip, q.skip + q.limit).map((s) => view(s, now)),
        total: mine.length,
        skip: q.skip,
        limit: q.limit,
      },
      200,
    );
  });

  sub.openapi(remove, async (c) => {
    const s = await managed(c, c.req.valid('param').id);
    if (s instanceof Response) return s as never;
    const done = s.active ? await w.commands.delete(actorOf(c.get('principal')), s) : s;
    return c.json(view(done, ctx.now()), 200);
  });

  sub.openapi(rotate, async (c) => {
    const s = await managed(c, c.req.valid('param').id);
    if (s instanceof Response) return s as never;
    if (!s.active)
      return reconixError(c, 'CONFLICT', 'the subscription is not active; register a new one') as never;
    const { subscription, secret } = await w.commands.rotateSecret(
      actorOf(c.get('principal')),
      s,
      c.req.valid('json').overlapSeconds,
    );
    return c.json({ ...view(subscription, ctx.now()), secret }, 201);
  });

  sub.openapi(deliveries, async (c) => {
    const s = await visible(c, c.req.valid('param').id);
    if (s instanceof Response) return s as never;
    const q = c.req.valid('query');
    const page = await w.deliveries.page(s.id, q.skip, q.limit);
    return c.json({ ...page, skip: q.skip, limit: q.limit }, 200);
  });

  sub.openapi(redeliver, async (c) => {
    const { id, webhookId } = c.req.valid('param');
    const s = await managed(c, id);
    if (s instanceof Response) return s as never;
    if (!s.active) return reconixError(c, 'CONFLICT', 'the subscription is not active') as never;
    const message = await w.deliveries.message(s.id, webhookId);
    if (!message) return reconixError(c, 'NOT_FOUND', `no logged message ${webhookId} for ${s.id}`) as never;
    await w.requests.record({
      source: 'API',
      type: 'REDELIVERY_REQUESTED',
      subscriptionId: s.id,
      organisation: s.organisation,
      webhookId,
      eventType: message.eventType,
      msisdn: message.msisdn,
      sequence: message.sequence,
      attempt: 0,
      outcome: 'REQUESTED',
      httpStatus: null,
      latencyMs: 0,
      error: null,
      response: null,
      nextAttemptAt: null,
      url: s.url,
      body: message.body,
      actor: actorOf(c.get('principal')),
      occurredAt: ctx.now(),
    });
    return c.json({ webhookId, status: 'REQUESTED' as const }, 202);
  });

  app.route('/', sub);
}
