import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { readJsonBody, requireApiKey, tirmsError, tirmsOk } from '@hub/ingest';
import { MAX_BULK_VERIFY_NUMBERS, TirmsError } from '@hub/schemas';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import type { NewVerification } from '../verifications.ts';
import { checkNumber, failedVerification, type TirmsVerification, verificationOf } from '../verify-result.ts';

const BASE = '/api/v1/phone/api/phone-numbers';
const BODY_BYTES = 256 * 1024;

const Verification = z
  .object({
    status: z.string().openapi({
      description: 'BLACKLISTED, CHURNED, REASSIGNED, SWAPPED, NORMAL or NULL',
      example: 'SWAPPED',
    }),
    requestId: z.string().openapi({ example: 'ba0f41ee-d58d-44c3-9f18-04d7ecb804f9' }),
    verificationStatus: z.enum(['VERIFIED', 'FAILED']),
    reassignmentDate: z.string().nullable().openapi({ example: null }),
    verificationTimestamp: z
      .string()
      .openapi({ description: 'ISO 8601', example: '2025-09-09T10:37:33.000Z' }),
    occurrenceOfStatusDate: z.string().nullable().openapi({ example: '2025-09-09' }),
    mobileNetwork: z.string().nullable().openapi({ example: 'GLOBACOM' }),
    msisdn: z.string().openapi({ description: 'The number as submitted', example: '07444009986' }),
    errorMessage: z.string().nullable().openapi({ example: null }),
  })
  .openapi('Verification');

const VerifyRequest = z
  .object({ phoneNumber: z.string().openapi({ example: '07444009986' }) })
  .openapi('VerifyRequest');
const BulkVerifyRequest = z
  .object({
    phoneNumbers: z
      .array(z.string())
      .max(MAX_BULK_VERIFY_NUMBERS)
      .openapi({ example: ['0801234578', '28123456789', '09087654321', '07011223344', '0912345670'] }),
  })
  .openapi('BulkVerifyRequest');
const VerifyResponse = z
  .object({ status: z.string(), data: Verification, statusCode: z.string() })
  .openapi('VerifyResponse');
const BulkVerifyResponse = z
  .object({
    status: z.string(),
    data: z.array(Verification),
    link: z.string().openapi({ description: 'Serves the same results later, while the link is valid' }),
    statusCode: z.string(),
  })
  .openapi('BulkVerifyResponse');

const errors = {
  400: {
    description: 'Missing or invalid parameter',
    content: { 'application/json': { schema: TirmsError } },
  },
  401: { description: 'Missing or invalid API key', content: { 'application/json': { schema: TirmsError } } },
  403: { description: 'Insufficient permission', content: { 'application/json': { schema: TirmsError } } },
  503: { description: 'State store unavailable', content: { 'application/json': { schema: TirmsError } } },
} as const;

const singleRoute = createRoute({
  method: 'post',
  path: `${BASE}/verify`,
  tags: ['TIRMS verification'],
  summary: 'Verify the current status of one phone number',
  description:
    'Reads the live state (one Redis round trip). A risky or invalid number is a 200 with the finding.',
  security: [{ ApiKey: [] }],
  request: { body: { content: { 'application/json': { schema: VerifyRequest } }, required: true } },
  responses: {
    200: { description: 'Verification result', content: { 'application/json': { schema: VerifyResponse } } },
    ...errors,
  },
});

const bulkRoute = createRoute({
  method: 'post',
  path: `${BASE}/verify/bulk`,
  tags: ['TIRMS verification'],
  summary: `Verify up to ${MAX_BULK_VERIFY_NUMBERS} phone numbers`,
  description:
    'One pipelined Redis round trip for all numbers. Invalid numbers are FAILED items with their reason.',
  security: [{ ApiKey: [] }],
  request: { body: { content: { 'application/json': { schema: BulkVerifyRequest } }, required: true } },
  responses: {
    200: { description: 'Results', content: { 'application/json': { schema: BulkVerifyResponse } } },
    ...errors,
  },
});

const resultRoute = createRoute({
  method: 'get',
  path: `${BASE}/verify/bulk/{requestId}`,
  tags: ['TIRMS verification'],
  summary: 'Results of an earlier bulk verification (the link in its response)',
  security: [{ ApiKey: [] }],
  request: { params: z.object({ requestId: z.string() }) },
  responses: {
    200: { description: 'Results', content: { 'application/json': { schema: BulkVerifyResponse } } },
    401: errors[401],
    404: {
      description: 'Unknown or expired request id',
      content: { 'application/json': { schema: TirmsError } },
    },
  },
});

const resultKey = (ctx: ApiContext, requestId: string) => `${ctx.config.REDIS_KEY_PREFIX}verify:${requestId}`;

/** TIRMS service-provider endpoints: single and bulk verification, and the bulk result link. */
export function registerTirmsVerifyRoutes(app: ApiApp, ctx: ApiContext): void {
  for (const route of [singleRoute, bulkRoute, resultRoute]) app.openAPIRegistry.registerPath(route);
  const verifiers = requireApiKey<ApiEnv>(ctx.ingest, ['SERVICE_PROVIDER', 'OPERATOR', 'HUB']);

  app.post(singleRoute.path, verifiers, async (c) => {
    const body = await readJsonBody(c, BODY_BYTES);
    if (!body.ok) return tirmsError(c, body.code, body.message);
    const phoneNumber = (body.value as { phoneNumber?: unknown } | null)?.phoneNumber;
    if (typeof phoneNumber !== 'string') {
      const message = phoneNumber === undefined ? 'is required' : 'must be a string of 10, 11 or 13 digits';
      return tirmsError(c, 'VALIDATION_ERROR', `phoneNumber: ${message}`, [
        { field: 'phoneNumber', message },
      ]);
    }
    const [item] = await verify(c, ctx, [phoneNumber], 'SINGLE', randomUUID());
    return tirmsOk(c, item);
  });

  app.post(bulkRoute.path, verifiers, async (c) => {
    const body = await readJsonBody(c, BODY_BYTES);
    if (!body.ok) return tirmsError(c, body.code, body.message);
    const numbers = (body.value as { phoneNumbers?: unknown } | null)?.phoneNumbers;
    if (!Array.isArray(numbers)) {
      const message = numbers === undefined ? 'is required' : 'must be an array of phone numbers';
      return tirmsError(c, 'VALIDATION_ERROR', `phoneNumbers: ${message}`, [
        { field: 'phoneNumbers', message },
      ]);
    }
    if (numbers.length === 0)
      return tirmsError(c, 'VALIDATION_ERROR', 'phoneNumbers: must contain at least one number');
    if (numbers.length > MAX_BULK_VERIFY_NUMBERS) {
      return tirmsError(
        c,
        'VALIDATION_ERROR',
        `phoneNumbers: has ${numbers.length} numbers; at most ${MAX_BULK_VERIFY_NUMBERS} per request`,
        [{ field: 'phoneNumbers', message: `at most ${MAX_BULK_VERIFY_NUMBERS} numbers per request` }],
      );
    }
    const requestId = randomUUID();
    const items = await verify(c, ctx, numbers, 'BULK', requestId);
    const link = `${BASE}/verify/bulk/${requestId}`;
    const stored = storedResult(c.get('principal').organisation, requestId, items);
    await ctx.redis.set(resultKey(ctx, requestId), JSON.stringify(stored), 'EX', ctx.resultTtlSeconds);
    return c.json({ status: 'Success', data: items, link, statusCode: '200' }, 200);
  });

  app.get(`${BASE}/verify/bulk/:requestId`, verifiers, async (c) => {
    const requestId = c.req.param('requestId') ?? '';
    const raw = /^[0-9a-f-]{36}$/.test(requestId) ? await ctx.redis.get(resultKey(ctx, requestId)) : null;
    const stored = raw ? (JSON.parse(raw) as StoredResult) : null;
    // Another organisation's results are reported as absent: request ids are not disclosed.
    if (!stored || stored.organisation !== c.get('principal').organisation) {
      return tirmsError(
        c,
        'NOT_FOUND',
        `requestId: no bulk verification ${requestId} (results expire after ${ctx.resultTtlSeconds} s)`,
      );
    }
    return c.json(
      {
        status: 'Success',
        data: resultItems(stored),
        link: `${BASE}/verify/bulk/${requestId}`,
        statusCode: '200',
      },
      200,
    );
  });
}

/**
 * A bulk result as kept for its link: the fields every item shares once, then one row per item.
 * A third of the size of the items themselves, so storing it costs the answer little.
 */
interface StoredResult {
  organisation: string;
  requestId: string;
  verificationTimestamp: string;
  /** [status, verificationStatus, reassignmentDate, occurrenceOfStatusDate, mobileNetwork, msisdn, errorMessage] */
  rows: [string, 'VERIFIED' | 'FAILED', string | null, string | null, string | null, string, string | null][];
  /** Results stored by earlier builds (still within their TTL after an upgrade): the items whole. */
  items?: TirmsVerification[];
}

function storedResult(organisation: string, requestId: string, items: TirmsVerification[]): StoredResult {
  return {
    organisation,
    requestId,
    verificationTimestamp: items[0]?.verificationTimestamp ?? '',
    rows: items.map((i) => [
      i.status,
      i.verificationStatus,
      i.reassignmentDate,
      i.occurrenceOfStatusDate,
      i.mobileNetwork,
      i.msisdn,
      i.errorMessage,
    ]),
  };
}

function resultItems(stored: StoredResult): TirmsVerification[] {
  if (!stored.rows) return stored.items ?? [];
  return stored.rows.map((row) => ({
    status: row[0],
    requestId: stored.requestId,
    verificationStatus: row[1],
    reassignmentDate: row[2],
    verificationTimestamp: stored.verificationTimestamp,
    occurrenceOfStatusDate: row[3],
    mobileNetwork: row[4],
    msisdn: row[5],
    errorMessage: row[6],
  }));
}

/** Verifies inputs in one state read, records each verification, and answers in input order. */
async function verify(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  inputs: unknown[],
  channel: 'SINGLE' | 'BULK',
  requestId: string,
): Promise<TirmsVerification[]> {
  const now = ctx.now();
  const timestamp = new Date(now).toISOString();
  const checks = inputs.map((input) =>
    typeof input === 'string'
      ? checkNumber(input)
      : { ok: false as const, reason: 'must be a string of 10, 11 or 13 digits' },
  );
  const valid = checks.flatMap((ch) => (ch.ok ? [ch.msisdn] : []));
  const states = await ctx.readState(valid);
  let next = 0;
  const views = checks.map((check) => (check.ok ? (states[next++]?.view ?? null) : null));
  const items = inputs.map((input, i) => {
    const check = checks[i]!;
    if (!check.ok) return failedVerification(input, `phoneNumber ${check.reason}`, requestId, timestamp);
    return verificationOf(input as string, check.msisdn, views[i] ?? null, requestId, timestamp);
  });
  const organisation = c.get('principal').organisation;
  ctx.verifications.record(
    items.map((item, i): NewVerification => {
      const check = checks[i]!;
      return {
        source: 'API',
        requestId,
        organisation,
        msisdn: check.ok ? check.msisdn : item.msisdn,
        channel,
        verificationStatus: item.verificationStatus,
        telecomStatus: item.verificationStatus === 'VERIFIED' ? item.status : null,
        lifecycleStatus: views[i]?.lifecycleStatus ?? null,
        occurredAt: now,
        receivedAt: now,
      };
    }),
  );
  return items;
}
