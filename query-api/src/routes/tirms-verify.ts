import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import {
  type FieldError,
  itemsOf,
  readJsonBody,
  requireApiKey,
  summarise,
  tirmsError,
  tirmsErrors,
  tirmsOk,
} from '@hub/ingest';
import { MAX_BULK_VERIFY_NUMBERS } from '@hub/schemas';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { customerField } from '../identity/records.ts';
import type { NewVerification } from '../verifications.ts';
import {
  checkNumber,
  failedVerification,
  type NumberCheck,
  type TirmsVerification,
  verificationOf,
} from '../verify-result.ts';

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

const NOT_AN_OBJECT = 'must be a JSON object';
const NOT_A_STRING = 'must be a string of 10, 11 or 13 digits';
const NOT_AN_ARRAY = 'must be an array of phone numbers';
const EMPTY = 'must contain at least one number';
const tooMany = (n: number) => `has ${n} numbers; at most ${MAX_BULK_VERIFY_NUMBERS} per request`;

/**
 * The request bodies. The hot routes check them with the hand parsers below (no validator pass
 * per request); tirms-verify.test.ts feeds both the same inputs and shows they agree. A number
 * that is a string but not a valid MSISDN is not a 400: it is a FAILED item with its reason.
 */
const CustomerReference = customerField().optional().openapi({
  description:
    "Optional: the bank's own reference for its customer, read back by the Okra by-customer lookups (never a NIN, BVN or phone number)",
  example: 'cust-00042',
});

export const VerifyRequest = z
  .object(
    {
      phoneNumber: z.string({ error: NOT_A_STRING }).openapi({ example: '07444009986' }),
      customer: CustomerReference,
    },
    { error: NOT_AN_OBJECT },
  )
  .openapi('VerifyRequest');
export const BulkVerifyRequest = z
  .object(
    {
      phoneNumbers: itemsOf(
        { type: 'string' },
        { min: 1, max: MAX_BULK_VERIFY_NUMBERS, notAnArray: NOT_AN_ARRAY, tooFew: EMPTY, tooMany },
      ).openapi({
        description: 'A number that is not a string, or not a valid MSISDN, is a FAILED item',
        example: ['0801234578', '28123456789', '09087654321', '07011223344', '0912345670'],
      }),
      customer: CustomerReference,
    },
    { error: NOT_AN_OBJECT },
  )
  .openapi('BulkVerifyRequest');

type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const isObject = (body: unknown): body is Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body);

/**
 * The optional customer reference, when the body has one: checked by the schema itself (the field
 * is rare, so the hot path pays nothing when it is absent).
 */
function customerOf(body: Record<string, unknown>): { ok: true; value: string | undefined } | FieldError {
  if (body.customer === undefined) return { ok: true, value: undefined };
  const checked = CustomerReference.safeParse(body.customer);
  return checked.success
    ? { ok: true, value: checked.data }
    : { field: 'customer', message: checked.error.issues[0]?.message ?? 'is invalid' };
}

/** `VerifyRequest` by hand, for the single-verify hot path. */
export function parseVerifyRequest(body: unknown): Parsed<{ phoneNumber: string; customer?: string }> {
  if (!isObject(body)) return { ok: false, errors: [{ field: 'body', message: NOT_AN_OBJECT }] };
  const { phoneNumber } = body;
  // The common request, a number and no reference: answered before anything else is built.
  if (typeof phoneNumber === 'string' && body.customer === undefined)
    return { ok: true, value: { phoneNumber } };
  const customer = customerOf(body);
  const errors: FieldError[] = 'ok' in customer ? [] : [customer];
  if (typeof phoneNumber !== 'string')
    errors.unshift({
      field: 'phoneNumber',
      message: phoneNumber === undefined ? 'is required' : NOT_A_STRING,
    });
  if (errors.length > 0 || !('ok' in customer)) return { ok: false, errors };
  return {
    ok: true,
    value:
      customer.value === undefined
        ? { phoneNumber: phoneNumber as string }
        : { phoneNumber: phoneNumber as string, customer: customer.value },
  };
}

/** `BulkVerifyRequest` by hand, for the bulk-verify hot path. */
export function parseBulkVerifyRequest(
  body: unknown,
): Parsed<{ phoneNumbers: unknown[]; customer?: string }> {
  if (!isObject(body)) return { ok: false, errors: [{ field: 'body', message: NOT_AN_OBJECT }] };
  const customer = customerOf(body);
  const { phoneNumbers } = body;
  const problem = !Array.isArray(phoneNumbers)
    ? phoneNumbers === undefined
      ? 'is required'
      : NOT_AN_ARRAY
    : phoneNumbers.length === 0
      ? EMPTY
      : phoneNumbers.length > MAX_BULK_VERIFY_NUMBERS
        ? tooMany(phoneNumbers.length)
        : null;
  const errors: FieldError[] = problem === null ? [] : [{ field: 'phoneNumbers', message: problem }];
  if (!('ok' in customer)) errors.push(customer);
  if (errors.length > 0 || !('ok' in customer)) return { ok: false, errors };
  return {
    ok: true,
    value:
      customer.value === undefined
        ? { phoneNumbers: phoneNumbers as unknown[] }
        : { phoneNumbers: phoneNumbers as unknown[], customer: customer.value },
  };
}

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

const ERRORS = tirmsErrors([400, 401, 403, 413, 415, 429, 503]);

function routesOf(verifiers: MiddlewareHandler<ApiEnv>) {
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
      200: {
        description: 'Verification result',
        content: { 'application/json': { schema: VerifyResponse } },
      },
      ...ERRORS,
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
      ...ERRORS,
    },
  });

  const resultRoute = createRoute({
    method: 'get',
    path: `${BASE}/verify/bulk/{requestId}`,
    tags: ['TIRMS verification'],
    summary: 'Results of an earlier bulk verification (the link in its response)',
    security: [{ ApiKey: [] }],
    middleware: [verifiers],
    request: {
      params: z.object({
        requestId: z.string().openapi({ example: 'ba0f41ee-d58d-44c3-9f18-04d7ecb804f9' }),
      }),
    },
    responses: {
      200: { description: 'Results', content: { 'application/json': { schema: BulkVerifyResponse } } },
      ...tirmsErrors([401, 403, 404, 429, 503], { 404: 'Unknown or expired request id' }),
    },
  });
  return { singleRoute, bulkRoute, resultRoute };
}

const resultKey = (ctx: ApiContext, requestId: string) => `${ctx.config.REDIS_KEY_PREFIX}verify:${requestId}`;

/** TIRMS service-provider endpoints: single and bulk verification, and the bulk result link. */
export function registerTirmsVerifyRoutes(app: ApiApp, ctx: ApiContext): void {
  const verifiers = requireApiKey<ApiEnv>(ctx.ingest, ['SERVICE_PROVIDER', 'OPERATOR', 'HUB']);
  const { singleRoute, bulkRoute, resultRoute } = routesOf(verifiers);
  // The hot routes: documented from their schemas, checked by the hand parsers that agree with them.
  app.openAPIRegistry.registerPath(singleRoute);
  app.openAPIRegistry.registerPath(bulkRoute);

  app.post(singleRoute.path, verifiers, async (c) => {
    const body = await readJsonBody(c, BODY_BYTES);
    if (!body.ok) return tirmsError(c, body.code, body.message, body.errors);
    const request = parseVerifyRequest(body.value);
    if (!request.ok) return tirmsError(c, 'VALIDATION_ERROR', summarise(request.errors), request.errors);
    const [item] = await verify(
      c,
      ctx,
      [request.value.phoneNumber],
      'SINGLE',
      randomUUID(),
      request.value.customer,
    );
    return tirmsOk(c, item);
  });

  app.post(bulkRoute.path, verifiers, async (c) => {
    const body = await readJsonBody(c, BODY_BYTES);
    if (!body.ok) return tirmsError(c, body.code, body.message, body.errors);
    const request = parseBulkVerifyRequest(body.value);
    if (!request.ok) return tirmsError(c, 'VALIDATION_ERROR', summarise(request.errors), request.errors);
    const requestId = randomUUID();
    const items = await verify(c, ctx, request.value.phoneNumbers, 'BULK', requestId, request.value.customer);
    const link = `${BASE}/verify/bulk/${requestId}`;
    const stored = storedResult(c.get('principal').organisation, requestId, items);
    await ctx.redis.set(resultKey(ctx, requestId), JSON.stringify(stored), 'EX', ctx.resultTtlSeconds);
    return c.json({ status: 'Success', data: items, link, statusCode: '200' }, 200);
  });

  app.openapi(resultRoute, async (c) => {
    const { requestId } = c.req.valid('param');
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
  /** The bank's own customer reference, when it sent one (Okra's by customer reads it back). */
  customer?: string,
): Promise<TirmsVerification[]> {
  const now = ctx.now();
  const timestamp = new Date(now).toISOString();
  // Plain loops, not map/flatMap: the single-verify hot path pays for every closure it creates.
  const checks: NumberCheck[] = new Array(inputs.length);
  const valid: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    const check: NumberCheck =
      typeof input === 'string' ? checkNumber(input) : { ok: false, reason: NOT_A_STRING };
    checks[i] = check;
    if (check.ok) valid.push(check.msisdn);
  }
  const states = await ctx.readState(valid);
  const organisation = c.get('principal').organisation;
  const items: TirmsVerification[] = new Array(inputs.length);
  const records: NewVerification[] = new Array(inputs.length);
  let next = 0;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    const check = checks[i]!;
    const view = check.ok ? (states[next++]?.view ?? null) : null;
    const item = check.ok
      ? verificationOf(input as string, check.msisdn, view, requestId, timestamp)
      : failedVerification(input, `phoneNumber ${check.reason}`, requestId, timestamp);
    items[i] = item;
    records[i] = {
      source: 'API',
      requestId,
      organisation,
      msisdn: check.ok ? check.msisdn : item.msisdn,
      channel,
      verificationStatus: item.verificationStatus,
      telecomStatus: item.verificationStatus === 'VERIFIED' ? item.status : null,
      lifecycleStatus: view?.lifecycleStatus ?? null,
      customer: customer ?? null,
      occurredAt: now,
      receivedAt: now,
    };
  }
  ctx.verifications.record(records);
  return items;
}
