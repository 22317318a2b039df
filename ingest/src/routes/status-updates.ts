import { createRoute, z } from '@hono/zod-openapi';
import {
  BulkAccepted,
  checkStatusUpdate,
  MAX_BULK_STATUS_RECORDS,
  StatusUpdateRecord,
  StatusUpdateResult,
} from '@hub/schemas';
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { incompletePublishResponse, kafkaOutcome } from '../acceptance.ts';
import { requireApiKey } from '../auth.ts';
import { type BulkReport, fingerprintOf, IDEMPOTENCY_KEY, type Rejection } from '../bulk-reports.ts';
import type { IngestApp, IngestContext, IngestEnv } from '../context.ts';
import { summarise, tirmsError, tirmsOk } from '../envelope.ts';
import { newBatchId } from '../event-ids.ts';
import { checkedRecord, type ItemBounds, itemsOf, jsonBody, tirmsErrors } from '../openapi.ts';
import { actorOf } from '../principal.ts';
import { PublishIncompleteError } from '../publisher.ts';
import { rangeViolation, statusEventProblem, toStatusEvent } from '../status-events.ts';
import { unavailableResponse } from '../unavailable.ts';

export const TIRMS_BASE = '/api/v1/phone/api';
const SINGLE_BODY_BYTES = 16 * 1024;

const errorResponses = tirmsErrors([400, 401, 403, 413, 415, 429, 503], {
  400: 'Missing or invalid field (every problem listed)',
  403: 'Not an operator, or the number is outside its ranges',
  413: 'Body or record count too large',
  503: 'Kafka unavailable; retry after Retry-After. If it failed part-way, `published`, `unconfirmed` and `notSent` list the records (request index ranges) it holds, may hold and never got',
});

const security = [{ ApiKey: [] }];

/** Bulk requests may carry an `Idempotency-Key`; a retry with the same key and body is safe. */
const bulkErrorResponses = {
  ...errorResponses,
  ...tirmsErrors([409], {
    409: 'The Idempotency-Key is in use by a request still in progress (retry after Retry-After), or was used for a different body',
  }),
};
const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(IDEMPOTENCY_KEY, { error: 'must be 1 to 128 letters, digits, _, -, . or :' })
    .optional()
    .openapi({
      description:
        'Makes a retry safe: resent with the same key and body, a finished request is answered as before and nothing is sent again; one that Kafka failed part-way sends only the records not yet on Kafka. Kept 7 days.',
      example: '5d0c6c1e-2b7e-4f0e-9d0a-3a1f4f6b2c11',
    }),
});

/**
 * The single update: the whole record through the same check as each bulk record and file row
 * (checkStatusUpdate, built on StatusUpdateRecord), so every problem is named at once, also the
 * cross-field ones; the handler gets the normalised record.
 */
const SingleStatusUpdate = checkedRecord(StatusUpdateRecord, checkStatusUpdate);

/**
 * The bulk bodies: only their shape and count are the request's; each record is checked on its
 * own in the handler (checkStatusUpdate), so one bad record of up to 100,000 never sinks the others.
 */
const recordBounds = (notAnArray: string): ItemBounds => ({
  min: 1,
  max: MAX_BULK_STATUS_RECORDS,
  notAnArray,
  tooFew: 'must contain at least one record',
  tooMany: (n) => `has ${n} records; at most ${MAX_BULK_STATUS_RECORDS} are accepted per request`,
  tooManyIsTooLarge: true,
});
const BulkStatusUpdateRequest = itemsOf(
  'StatusUpdateRequest',
  recordBounds('must be a JSON array of status update records'),
).openapi('BulkStatusUpdateRequest', { description: `Up to ${MAX_BULK_STATUS_RECORDS} records.` });
const BulkUploadRequest = z
  .object(
    {
      phoneNumbers: itemsOf(
        'StatusUpdateRequest',
        recordBounds('is required and must be an array of records'),
      ),
    },
    { error: 'must be a JSON object with phoneNumbers' },
  )
  .openapi('BulkUploadRequest', { description: `Up to ${MAX_BULK_STATUS_RECORDS} records in phoneNumbers.` });

type Guard = MiddlewareHandler<IngestEnv>;

const singleRouteOf = (operatorsOnly: Guard) =>
  createRoute({
    method: 'put',
    path: `${TIRMS_BASE}/phone-numbers/status`,
    tags: ['TIRMS operators'],
    summary: 'Update the status of one phone number',
    description: 'Acknowledged once Kafka (acks=all) holds the event.',
    security,
    middleware: [operatorsOnly, jsonBody(SINGLE_BODY_BYTES)],
    request: {
      body: { content: { 'application/json': { schema: SingleStatusUpdate } }, required: true },
    },
    responses: {
      200: { description: 'Accepted', content: { 'application/json': { schema: StatusUpdateResult } } },
      ...errorResponses,
    },
  });

const bulkRouteOf = (operatorsOnly: Guard, maxBytes: number) =>
  createRoute({
    method: 'put',
    path: `${TIRMS_BASE}/phone-numbers/status/bulk`,
    tags: ['TIRMS operators'],
    summary: `Update the status of up to ${MAX_BULK_STATUS_RECORDS} phone numbers`,
    description:
      'Valid records are published; each rejected one is reported (index, number, field, reason) at the returned link.',
    security,
    middleware: [operatorsOnly, jsonBody(maxBytes)],
    request: {
      headers: idempotencyHeader,
      body: { content: { 'application/json': { schema: BulkStatusUpdateRequest } }, required: true },
    },
    responses: {
      202: {
        description: 'Valid records accepted',
        content: { 'application/json': { schema: BulkAccepted } },
      },
      ...bulkErrorResponses,
    },
  });

const uploadRouteOf = (operatorsOnly: Guard, maxBytes: number) =>
  createRoute({
    method: 'post',
    path: `${TIRMS_BASE}/phone-numbers/upload/bulk`,
    tags: ['TIRMS operators'],
    summary: 'Bulk phone number upload for legacy integrations',
    security,
    middleware: [operatorsOnly, jsonBody(maxBytes)],
    request: {
      headers: idempotencyHeader,
      body: { content: { 'application/json': { schema: BulkUploadRequest } }, required: true },
    },
    responses: {
      202: {
        description: 'Valid records accepted',
        content: { 'application/json': { schema: BulkAccepted } },
      },
      ...bulkErrorResponses,
    },
  });

const BulkReportResponse = z
  .object({
    status: z.literal('Success'),
    data: z
      .unknown()
      .openapi({ description: 'The per-record outcome: accepted and rejected counts, rejections' }),
    statusCode: z.string(),
  })
  .openapi('BulkReportResponse');

const reportRouteOf = (readers: MiddlewareHandler<IngestEnv>) =>
  createRoute({
    method: 'get',
    path: `${TIRMS_BASE}/phone-numbers/bulk-reports/{batchId}`,
    tags: ['TIRMS operators'],
    summary: 'Per-record outcome of a bulk request (the link in its response)',
    security,
    middleware: [readers],
    request: { params: z.object({ batchId: z.string().openapi({ example: '0b5d8c7e-…' }) }) },
    responses: {
      200: { description: 'Report', content: { 'application/json': { schema: BulkReportResponse } } },
      ...tirmsErrors([401, 403, 404, 429, 503], { 404: 'Unknown or expired batch' }),
    },
  });

/** TIRMS operator endpoints: single and bulk status updates, bulk upload, and the bulk report link. */

/** TIRMS operator endpoints: single and bulk status updates, bulk upload, and the bulk report link. */
export function registerStatusUpdateRoutes(app: IngestApp, ctx: IngestContext): void {
  const operatorsOnly = requireApiKey(ctx, ['OPERATOR', 'HUB']);
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'Authorization: Bearer <API key>',
  });

  app.openapi(singleRouteOf(operatorsOnly), async (c) => {
    const update = c.req.valid('json');
    const principal = c.get('principal');
    const [serving] = await ctx.servingOperators([update.msisdn]);
    const violation = rangeViolation(principal, update.msisdn, serving ?? null);
    if (violation) {
      audit(c, ctx, 'STATUS_UPDATE', update.msisdn, 'DENIED', { reason: violation });
      return tirmsError(c, 'FORBIDDEN', `phoneNumber: ${violation}`, [
        { field: 'phoneNumber', message: violation },
      ]);
    }
    const receivedAt = ctx.now();
    const event = toStatusEvent(update, operatorOf(principal), 'HTTP', receivedAt, null);
    const refused = statusEventProblem(event);
    if (refused) return tirmsError(c, 'VALIDATION_ERROR', summarise([refused]), [refused]);
    try {
      await ctx.publisher.publish('status-update', ctx.topics.statusUpdates, [
        { key: event.msisdn, value: event },
      ]);
    } catch (err) {
      const answer = unavailableResponse(
        c,
        err,
        err instanceof PublishIncompleteError && err.unconfirmed > 0
          ? 'the event store did not confirm the update (it may or may not be stored); resending it is safe, it carries the same event id'
          : 'the event store is unavailable; nothing was accepted, retry later',
      );
      if (!answer) throw err;
      return answer as never;
    }
    audit(c, ctx, 'STATUS_UPDATE', event.msisdn, 'SUCCESS', { status: event.status, eventId: event.eventId });
    const data = {
      phoneNumber: update.submittedNumber,
      status: update.submittedStatus,
      updateTimestamp: tirmsTimestamp(receivedAt),
      remarks: update.remarks,
    };
    return c.json({ status: 'Success', data, statusCode: '200' }, 200);
  });

  // The answers of a bulk request are built (and stored for idempotent replays) as plain responses.
  app.openapi(bulkRouteOf(operatorsOnly, ctx.maxBulkBodyBytes), async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    return (await ingestBulk(c, ctx, c.req.valid('json'), key, 'body', 'STATUS_UPDATE')) as never;
  });

  app.openapi(uploadRouteOf(operatorsOnly, ctx.maxBulkBodyBytes), async (c) => {
    const key = c.req.valid('header')['idempotency-key'];
    const records = c.req.valid('json').phoneNumbers;
    return (await ingestBulk(c, ctx, records, key, 'phoneNumbers', 'UPLOAD')) as never;
  });

  app.openapi(reportRouteOf(requireApiKey(ctx, ['OPERATOR', 'HUB', 'SERVICE_PROVIDER'])), async (c) => {
    const report = await ctx.reports.get(c.req.valid('param').batchId);
    const principal = c.get('principal');
    // Another organisation's report is reported as absent, not forbidden: ids are not disclosed.
    if (!report || (principal.type !== 'HUB' && report.organisation !== principal.organisation)) {
      return tirmsError(c, 'NOT_FOUND', 'no bulk report with this id (reports expire)');
    }
    return c.json({ status: 'Success' as const, data: report, statusCode: '200' }, 200);
  });
}

/** The records of a bulk request, its shape and count already validated (1 to 100,000). */
async function ingestBulk(
  c: Context<IngestEnv>,
  ctx: IngestContext,
  records: unknown[],
  idempotencyKey: string | undefined,
  /** Where the records sit in the body, for error paths: `body[3].status`, `phoneNumbers[3].status`. */
  base: string,
  kind: BulkReport['kind'],
) {
  const principal = c.get('principal');
  const idempotency = await claimIdempotency(c, ctx, idempotencyKey, principal.organisation, kind, records);
  if ('response' in idempotency) return idempotency.response;
  try {
    return await ingestClaimed(c, ctx, records, base, kind, idempotency);
  } catch (err) {
    if (idempotency.scope) await ctx.reports.idempotency.release(idempotency.scope);
    throw err;
  }
}

interface Claimed {
  /** The idempotency scope this request holds, or null without an `Idempotency-Key`. */
  scope: string | null;
  fingerprint: string;
  batchId: string;
  /** Leading events an earlier attempt under the same key got onto Kafka: not sent again. */
  skip: number;
}

/**
 * The `Idempotency-Key` of a bulk request, if sent: a finished request is answered again as it was
 * (nothing sent), a request Kafka failed part-way resumes after the events known to be on Kafka.
 */

/**
 * The `Idempotency-Key` of a bulk request, if sent (its form checked by the route's header schema):
 * a finished request is answered again as it was (nothing sent), a request Kafka failed part-way
 * resumes after the events known to be on Kafka.
 */
async function claimIdempotency(
  c: Context<IngestEnv>,
  ctx: IngestContext,
  key: string | undefined,
  organisation: string,
  kind: BulkReport['kind'],
  records: unknown[],
): Promise<Claimed | { response: Response }> {
  if (key === undefined) return { scope: null, fingerprint: '', batchId: newBatchId(), skip: 0 };
  const field = 'Idempotency-Key';
  const scope = `${organisation}:${kind}:${key}`;
  const fingerprint = fingerprintOf(records);
  const claim = await ctx.reports.idempotency.claim(scope, fingerprint);
  switch (claim.kind) {
    case 'new':
      return { scope, fingerprint, batchId: newBatchId(), skip: 0 };
    case 'resume':
      return { scope, fingerprint, batchId: claim.batchId, skip: claim.published };
    case 'replay':
      c.header('Idempotent-Replayed', 'true');
      return { response: c.json(claim.body as object, claim.status as ContentfulStatusCode) };
    case 'busy': {
      c.header('Retry-After', '5');
      const message = 'a request with this key is still being processed; retry when it has finished';
      return { response: tirmsError(c, 'CONFLICT', `${field}: ${message}`, [{ field, message }]) };
    }
    case 'mismatch': {
      const message = 'was used for a different request body; a new request needs a new key';
      return { response: tirmsError(c, 'CONFLICT', `${field}: ${message}`, [{ field, message }]) };
    }
  }
}

async function ingestClaimed(
  c: Context<IngestEnv>,
  ctx: IngestContext,
  records: unknown[],
  base: string,
  kind: BulkReport['kind'],
  claimed: Claimed,
) {
  const principal = c.get('principal');
  const receivedAt = ctx.now();
  const { batchId, skip } = claimed;
  const operator = operatorOf(principal);
  const rejections: Rejection[] = [];
  const events = [];
  /** The request index of each event, for saying which records Kafka holds if it fails part-way. */
  const eventIndexes: number[] = [];
  const checks = records.map((record) => checkStatusUpdate(record));
  // One state round trip for the serving operator of every valid number (ported-in numbers).
  const valid = checks.flatMap((check) => (check.ok ? [check.value.msisdn] : []));
  const serving = principal.type === 'HUB' ? [] : await ctx.servingOperators(valid);
  let validIndex = 0;
  let outOfRange = 0;
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    const check = checks[index]!;
    if (!check.ok) {
      for (const p of check.problems) {
        rejections.push({ index, phoneNumber: numberOf(record), field: p.field, reason: p.message });
      }
      continue;
    }
    const violation = rangeViolation(principal, check.value.msisdn, serving[validIndex++] ?? null);
    if (violation) outOfRange++;
    if (violation) {
      rejections.push({
        index,
        phoneNumber: check.value.submittedNumber,
        field: 'phoneNumber',
        reason: violation,
      });
      continue;
    }
    const event = toStatusEvent(check.value, operator, 'HTTP', receivedAt, batchId);
    const refused = statusEventProblem(event);
    if (refused) {
      rejections.push({
        index,
        phoneNumber: check.value.submittedNumber,
        field: refused.field,
        reason: refused.message,
      });
      continue;
    }
    events.push({ key: event.msisdn, value: event });
    eventIndexes.push(index);
  }
  const rejected = new Set(rejections.map((r) => r.index)).size;
  const report: BulkReport = {
    batchId,
    organisation: principal.organisation,
    kind,
    receivedAt: new Date(receivedAt).toISOString(),
    total: records.length,
    accepted: events.length,
    rejected,
    rejections,
  };
  const link = `${TIRMS_BASE}/phone-numbers/bulk-reports/${batchId}`;
  const action = kind === 'UPLOAD' ? 'BULK_UPLOAD' : 'BULK_STATUS_UPDATE';
  if (events.length > skip) {
    try {
      await ctx.publisher.publish('status-update', ctx.topics.statusUpdates, events.slice(skip));
    } catch (thrown) {
      // Counted over the whole request: an earlier attempt under the same key sent the first `skip`.
      const err =
        thrown instanceof PublishIncompleteError
          ? new PublishIncompleteError(events.length, skip + thrown.published, thrown.unconfirmed, thrown)
          : thrown;
      // Kafka failed part-way: the answer and the report at the link say which records it holds.
      const answer = incompletePublishResponse(c, err, eventIndexes, { link }, 'TIRMS');
      if (!answer) throw err;
      if (claimed.scope && err instanceof PublishIncompleteError) {
        await ctx.reports.idempotency.settlePartial(
          claimed.scope,
          claimed.fingerprint,
          batchId,
          err.published,
        );
      }
      if (err instanceof PublishIncompleteError && err.published + err.unconfirmed > 0) {
        await ctx.reports.save({
          ...report,
          accepted: err.published,
          kafka: kafkaOutcome(err, eventIndexes),
        });
        audit(c, ctx, action, batchId, 'FAILURE', {
          total: records.length,
          accepted: err.published,
          unconfirmed: err.unconfirmed,
          notSent: err.notSent,
          rejected,
          outOfRange,
        });
      }
      return answer;
    }
  }
  await ctx.reports.save(report);
  audit(c, ctx, action, batchId, events.length > 0 ? 'SUCCESS' : 'FAILURE', {
    total: records.length,
    accepted: events.length,
    rejected,
    outOfRange,
  });
  if (events.length === 0) {
    const first = rejections
      .slice(0, 20)
      .map((r) => ({ field: `${base}[${r.index}]${r.field ? `.${r.field}` : ''}`, message: r.reason }));
    const body = {
      status: 'Failure',
      data: {
        code: 'VALIDATION_ERROR',
        message: `all ${records.length} records were rejected; first: ${summarise(first.slice(0, 3))}`,
        errors: first,
        link,
      },
      statusCode: '400',
    } as const;
    await settled(ctx, claimed, 0, 400, body);
    return c.json(body, 400);
  }
  const message = `Request accepted: ${events.length} of ${records.length} records published, ${rejected} rejected`;
  await settled(ctx, claimed, events.length, 202, {
    status: 'Success',
    data: { message, link },
    statusCode: '202',
  });
  return tirmsOk(c, { message, link }, 202);
}

/** Remembers a finished request's answer under its `Idempotency-Key`, if it has one. */
async function settled(
  ctx: IngestContext,
  claimed: Claimed,
  published: number,
  status: number,
  body: unknown,
) {
  if (!claimed.scope) return;
  await ctx.reports.idempotency.settleDone(claimed.scope, claimed.fingerprint, claimed.batchId, published, {
    status,
    body,
  });
}

function audit(
  c: Context<IngestEnv>,
  ctx: IngestContext,
  action: string,
  target: string,
  outcome: 'SUCCESS' | 'DENIED' | 'FAILURE',
  details: Record<string, unknown>,
): void {
  const principal = c.get('principal');
  ctx.audit.record({
    actor: actorOf(principal),
    organisation: principal.organisation,
    action,
    target,
    outcome,
    details,
    requestId: c.get('requestId') ?? null,
  });
}

function operatorOf(principal: { operatorCode: string | null; organisation: string }): string {
  return principal.operatorCode ?? principal.organisation;
}

function numberOf(record: unknown): string | null {
  if (typeof record !== 'object' || record === null) return null;
  const r = record as Record<string, unknown>;
  const n = r.phoneNumber ?? r.uid;
  return typeof n === 'string' ? n : null;
}

/** TIRMS shows update times as "YYYY-MM-DD HH:mm:ss" (UTC). */
function tirmsTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
