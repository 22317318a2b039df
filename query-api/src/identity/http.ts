import type { ClickHouseClient } from '@clickhouse/client';
import {
  checkedString,
  clickhouseUnavailable,
  DependencyUnavailableError,
  unavailableResponse,
} from '@hub/ingest';
import { checkDate, checkIdentifier, type IdentifierKind, normaliseMsisdn } from '@hub/schemas';
import type { StateView } from '@hub/state';
import type { Context } from 'hono';
import type { ApiContext, ApiEnv } from '../context.ts';

/** A request's MSISDN: 10, 11 or 13 digits, with or without +; the handler gets the canonical form. */
export const msisdnField = () =>
  checkedString((input) => {
    const check = normaliseMsisdn(input);
    return check.ok ? { ok: true, value: check.msisdn } : check;
  });

/** A raw NIN, BVN or NUBAN from a request (never stored or echoed); its own check's reasons. */
export const identifierField = (kind: IdentifierKind) =>
  checkedString((input) => checkIdentifier(kind, input));

/** A calendar date, YYYY-MM-DD. */
export const dateField = () =>
  checkedString((input) => {
    const check = checkDate(input);
    return check.ok ? { ok: true, value: check.date } : check;
  });

/** A day bound of a history query: a calendar date that ClickHouse's Date type can hold. */
export const historyDayField = () =>
  dateField().refine((day) => day >= '1970-01-01' && day <= '2105-12-31', {
    error: 'must be between 1970-01-01 and 2105-12-31',
  });

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
  /** The caller's own customer reference, when it sent one (Okra's by customer reads it back). */
  customer?: string,
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
      customer: customer ?? null,
      occurredAt: now,
      receivedAt: now,
    })),
  );
}
