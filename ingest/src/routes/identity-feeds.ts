import { createRoute, z } from '@hono/zod-openapi';
import type { BvnLinkageEvent, NinLinkageEvent } from '@hub/schemas';
import type { MiddlewareHandler } from 'hono';
import { incompletePublishResponse } from '../acceptance.ts';
import type { IngestApp, IngestContext, IngestEnv } from '../context.ts';
import { reconixError, summarise } from '../envelope.ts';
import { checkFeedRecord } from '../feeds.ts';
import { itemsOf, jsonBody, reconixErrors } from '../openapi.ts';
import { actorOf, rolesOf } from '../principal.ts';
import { PublishIncompleteError } from '../publisher.ts';

export const MAX_FEED_EVENTS = 10_000;

const FeedRecord = z
  .object({
    msisdn: z.string().openapi({ example: '08031234567' }),
    action: z.enum(['LINK', 'UNLINK']),
    nin: z.string().optional().openapi({
      description: 'NIMC feeds: the 11-digit NIN (tokenised on arrival)',
      example: '12345678901',
    }),
    bvn: z.string().optional().openapi({
      description: 'NIBSS feeds: the 11-digit BVN (tokenised on arrival)',
      example: '22123456789',
    }),
    holderNin: z
      .string()
      .optional()
      .openapi({ description: "NIBSS feeds: the BVN holder's NIN, when known" }),
    nuban: z
      .string()
      .optional()
      .openapi({ description: 'NIBSS feeds: a 10-digit account number under the BVN' }),
    bankCode: z.string().optional().openapi({ example: '058' }),
    date: z.string().openapi({ description: 'YYYY-MM-DD of the link or unlink', example: '2024-03-01' }),
  })
  .openapi('IdentityFeedRecord');

/**
 * Only the request's shape and count are validated here; each event is checked on its own in the
 * handler (checkFeedRecord, the same check file ingest applies), so a bad event is that event's
 * rejection, never the whole request's 400.
 */
const FeedRequest = z
  .object(
    {
      source: z.enum(['NIMC', 'NIBSS'], {
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be NIMC or NIBSS'),
      }),
      events: itemsOf('IdentityFeedRecord', {
        min: 1,
        max: MAX_FEED_EVENTS,
        notAnArray: 'is required and must be an array',
        tooFew: 'must contain at least one event',
        tooMany: (n) => `has ${n} events; at most ${MAX_FEED_EVENTS} per request`,
        tooManyIsTooLarge: true,
      }),
    },
    { error: 'must be a JSON object with source and events' },
  )
  .openapi('IdentityFeedRequest');

const FeedAccepted = z
  .object({
    accepted: z.number().int(),
    rejected: z.number().int(),
    rejections: z.array(z.object({ index: z.number().int(), field: z.string(), reason: z.string() })),
  })
  .openapi('IdentityFeedAccepted');

const receiveRouteOf = (feedKey: MiddlewareHandler<IngestEnv>, maxBytes: number) =>
  createRoute({
    method: 'post',
    path: '/api/v1/webhooks/receive',
    tags: ['Webhooks'],
    summary: 'Receive NIMC NIN-linkage or NIBSS BVN-linkage events',
    description:
      'API-key authenticated (X-API-Key or Authorization: Bearer). Identifiers are tokenised (keyed hash) and masked before they are published; valid events are accepted even when others in the same request are rejected.',
    security: [{ ApiKey: [] }],
    middleware: [feedKey, jsonBody(maxBytes)],
    request: { body: { content: { 'application/json': { schema: FeedRequest } }, required: true } },
    responses: {
      202: {
        description: 'Valid events published',
        content: { 'application/json': { schema: FeedAccepted } },
      },
      ...reconixErrors([400, 401, 403, 413, 415, 503], {
        400: 'Invalid request; every problem listed',
        401: 'Missing or invalid API key',
        403: 'Key may not post this source',
        413: `Body too large, or more than ${MAX_FEED_EVENTS} events`,
        503: 'Kafka unavailable; retry after Retry-After. If it failed part-way, `published`, `unconfirmed` and `notSent` list the events (request index ranges) it holds, may hold and never got',
      }),
    },
  });

/** An identity source's API key, as X-API-Key or Authorization: Bearer. */
function feedKeyOf(ctx: IngestContext): MiddlewareHandler<IngestEnv> {
  return async (c, next) => {
    const apiKey = c.req.header('x-api-key');
    const principal = await ctx.authenticate(apiKey ? `Bearer ${apiKey}` : c.req.header('authorization'));
    if (!principal)
      return reconixError(
        c,
        'UNAUTHORIZED',
        'a valid API key is required (X-API-Key or Authorization: Bearer)',
      );
    c.set('principal', principal);
    await next();
  };
}

/** Identity feeds from NIMC and NIBSS, pushed to the hub as webhooks. */
export function registerIdentityFeedRoutes(app: IngestApp, ctx: IngestContext): void {
  // Each event of `events` is documented as this record (itemsOf names it).
  app.openAPIRegistry.register('IdentityFeedRecord', FeedRecord);
  app.openapi(receiveRouteOf(feedKeyOf(ctx), ctx.maxBulkBodyBytes), async (c) => {
    const principal = c.get('principal');
    const { source, events } = c.req.valid('json');
    const hubAdmin = principal.type === 'HUB' && rolesOf(principal).includes('Admin');
    if (!hubAdmin && !(principal.type === 'IDENTITY_SOURCE' && principal.organisation === source)) {
      ctx.audit.record({
        actor: actorOf(principal),
        organisation: principal.organisation,
        action: 'IDENTITY_FEED',
        target: source,
        outcome: 'DENIED',
        details: { reason: `may not post ${source} events` },
      });
      return reconixError(c, 'FORBIDDEN', `this key may not post ${source} events`);
    }

    const receivedAt = ctx.now();
    const nin: { key: string; value: NinLinkageEvent }[] = [];
    const bvn: { key: string; value: BvnLinkageEvent }[] = [];
    const rejections: { index: number; field: string; reason: string }[] = [];
    /** The request index of each published event, in publish order (a source sends one kind). */
    const ninIndexes: number[] = [];
    const bvnIndexes: number[] = [];
    events.forEach((record, index) => {
      const check = checkFeedRecord(source, record, ctx.tokenSecret, 'WEBHOOK', receivedAt);
      if (!check.ok) {
        for (const p of check.problems) rejections.push({ index, field: p.field, reason: p.message });
      } else if (check.event.kind === 'nin-linkage') {
        nin.push({ key: check.event.value.msisdn, value: check.event.value });
        ninIndexes.push(index);
      } else {
        bvn.push({ key: check.event.value.msisdn, value: check.event.value });
        bvnIndexes.push(index);
      }
    });
    const accepted = nin.length + bvn.length;
    if (accepted === 0) {
      const errors = rejections
        .slice(0, 50)
        .map((r) => ({ field: `events[${r.index}].${r.field}`, message: r.reason }));
      return reconixError(
        c,
        'VALIDATION_ERROR',
        `every event was rejected; first: ${summarise(errors.slice(0, 3))}`,
        errors,
      );
    }
    const rejected = new Set(rejections.map((r) => r.index)).size;
    try {
      if (nin.length > 0) await ctx.publisher.publish('nin-linkage', ctx.topics.ninLinkages, nin);
      if (bvn.length > 0) await ctx.publisher.publish('bvn-linkage', ctx.topics.bvnLinkages, bvn);
    } catch (err) {
      // Kafka failed part-way: the answer lists which events (request indexes) it holds.
      const indexes = nin.length > 0 ? ninIndexes : bvnIndexes;
      const answer = incompletePublishResponse(c, err, indexes, { rejected, rejections }, 'RECONIX');
      if (!answer) throw err;
      if (err instanceof PublishIncompleteError && err.published + err.unconfirmed > 0) {
        ctx.audit.record({
          actor: actorOf(principal),
          organisation: principal.organisation,
          action: 'IDENTITY_FEED',
          target: source,
          outcome: 'FAILURE',
          details: { accepted: err.published, unconfirmed: err.unconfirmed, notSent: err.notSent, rejected },
        });
      }
      return answer as never;
    }
    ctx.audit.record({
      actor: actorOf(principal),
      organisation: principal.organisation,
      action: 'IDENTITY_FEED',
      target: source,
      outcome: 'SUCCESS',
      details: { accepted, rejected },
    });
    return c.json({ accepted, rejected, rejections }, 202);
  });
}
