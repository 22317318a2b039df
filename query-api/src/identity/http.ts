import type { ClickHouseClient } from '@clickhouse/client';
import { z } from '@hono/zod-openapi';
import {
  clickhouseUnavailable,
  DependencyUnavailableError,
  type FieldError,
  RECONIX_ERRORS,
  reconixError,
  unavailableResponse,
} from '@hub/ingest';
import { normaliseMsisdn } from '@hub/schemas';
import type { StateView } from '@hub/state';
import type { Context } from 'hono';
import type { ApiContext, ApiEnv } from '../context.ts';

/** The Reconix error envelope as the OpenAPI document shows it; `code` is the runtime's own table. */
export const ReconixErrorBody = z
  .object({
    detail: z.string().openapi({ example: "number: '0801234' has 7 digits; expected 10, 11 or 13" }),
    code: z.enum(Object.keys(RECONIX_ERRORS) as [keyof typeof RECONIX_ERRORS]).openapi({
      example: 'VALIDATION_ERROR',
    }),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('ReconixError');

const errorContent = { 'application/json': { schema: ReconixErrorBody } };

/** Error responses shared by the identity routes, for the OpenAPI document. */
export const errorResponses = {
  400: { description: 'Invalid parameter; `errors` names each field', content: errorContent },
  401: { description: 'Missing or invalid API key', content: errorContent },
  403: { description: 'Organisation type not allowed here', content: errorContent },
  503: { description: 'A data store is unavailable', content: errorContent },
} as const;
export const notFoundResponse = { description: 'The hub holds nothing about it', content: errorContent };

/** Answers a 400 naming the field, in the Reconix envelope. */
export function fieldError(c: Context, field: string, message: string) {
  return reconixError(c, 'VALIDATION_ERROR', `${field}: ${message}`, [{ field, message }]);
}

export function fieldErrors(c: Context, errors: FieldError[]) {
  return reconixError(
    c,
    'VALIDATION_ERROR',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  );
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: FieldError };

/** A number from a request, canonical or a field error naming `field`. */
export function checkMsisdn(input: unknown, field: string): Checked<string> {
  if (input === undefined || input === null) return { ok: false, error: { field, message: 'is required' } };
  const check = normaliseMsisdn(input);
  return check.ok
    ? { ok: true, value: check.msisdn }
    : { ok: false, error: { field, message: check.reason } };
}

/** The JSON body as an object, or null when it is an array or a scalar. */
export function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** ClickHouse could not answer (refused, timed out, overloaded): a 503, never a 500. */
export class HistoryUnavailableError extends DependencyUnavailableError {
  override readonly name = 'HistoryUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('the history store', message, options);
  }
}

/**
 * Rows of a ClickHouse query. Only an availability failure becomes HistoryUnavailableError; an
 * error in the SQL (syntax, unknown column or table) is thrown as it is, and answered as a 500.
 */
export async function queryRows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  try {
    const result = await client.query({ query, format: 'JSONEachRow' });
    return await result.json<T>();
  } catch (err) {
    if (clickhouseUnavailable(err)) throw new HistoryUnavailableError((err as Error).message, { cause: err });
    throw err;
  }
}

/** The 503 for an unavailable store (the shared helper); any other error is rethrown, for the 500. */
export function historyUnavailable(c: Context<ApiEnv>, err: unknown) {
  const response = unavailableResponse(c, err);
  if (!response) throw err;
  return response;
}

export type Channel = 'SINGLE' | 'BULK' | 'LINKAGE' | 'LOOKUP';

/**
 * Records verification-like calls on the verifications topic (usage analytics, watch lists): one
 * record per number asked about. `msisdn` is '' when a lookup by identifier matched no number.
 */
export function recordUse(
  c: Context<ApiEnv>,
  ctx: ApiContext,
  channel: Channel,
  items: { msisdn: string; view: StateView | null; found: boolean }[],
): void {
  const now = ctx.now();
  const requestId = c.get('requestId');
  const organisation = c.get('principal').organisation;
  ctx.verifications.record(
    items.map((item) => ({
      source: 'API',
      requestId,
      organisation,
      msisdn: item.msisdn,
      channel,
      verificationStatus: item.found ? 'VERIFIED' : 'FAILED',
      telecomStatus: item.view?.telecomStatus ?? null,
      lifecycleStatus: item.view?.lifecycleStatus ?? null,
      occurredAt: now,
      receivedAt: now,
    })),
  );
}
