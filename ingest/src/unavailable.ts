import { ProjectionUnavailableError, UnreadableStateError } from '@hub/state/read';
import type { Context } from 'hono';
import { surfaceError } from './openapi.ts';
import { requestLog } from './request-log.ts';

/**
 * The one place that tells "a dependency cannot answer right now, retry" (503 with Retry-After)
 * from a bug or a bad query (500 with the request id). Every route and the servers' onError hooks
 * answer through `unavailableResponse` and `internalErrorResponse`; none keeps its own copy.
 */

export const RETRY_AFTER_SECONDS = 5;

/** A record that does not decode stays so until it is rebuilt: a client waits longer. */
export const UNREADABLE_RETRY_AFTER_SECONDS = 300;

/** A dependency that could not answer (connection refused, timeout); the client should retry. */
export class DependencyUnavailableError extends Error {
  override readonly name: string = 'DependencyUnavailableError';
  /** Seconds a client should wait before retrying (the Retry-After header). */
  readonly retryAfterSeconds: number;
  /** What the client is told, when the standard "<dependency> is unavailable" says too little. */
  readonly clientDetail: string | null;

  constructor(
    /** What a client is told is unavailable: "the event store", "the history store", … */
    readonly dependency: string,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number; clientDetail?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? RETRY_AFTER_SECONDS;
    this.clientDetail = options.clientDetail ?? null;
  }
}

/** Socket-level failures: the peer is not there or did not answer in time. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * ClickHouse server codes that mean "busy or timed out", not "your query is wrong": 159
 * TIMEOUT_EXCEEDED, 202 TOO_MANY_SIMULTANEOUS_QUERIES, 203 NO_FREE_CONNECTION, 209 SOCKET_TIMEOUT,
 * 210 NETWORK_ERROR, 252 TOO_MANY_PARTS. Every other server code (62 syntax, 47 unknown
 * identifier, 60 unknown table, …) is a bug in the hub's SQL.
 */
const CLICKHOUSE_RETRY_CODES = new Set([159, 202, 203, 209, 210, 252]);

/** kafkajs errors that mean the broker could not be reached or did not answer in time. */
const KAFKA_UNREACHABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

function networkFailure(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return /^Timeout error\.?$|socket hang up|ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(err.message);
}

/**
 * kafkajs wraps the last error of its retries (KafkaJSNonRetriableError, …NumberOfRetriesExceeded
 * around a connection error): the chain decides. A protocol error the broker marks non-retriable
 * (a record too large or invalid) is a bug, not an outage.
 */
function kafkaUnreachable(err: Error): boolean {
  let e: (Error & { retriable?: unknown; originalError?: unknown }) | undefined = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (KAFKA_UNREACHABLE.has(e.name) || networkFailure(e)) return true;
    if (e.name === 'KafkaJSProtocolError') return e.retriable === true;
    if (e.name !== 'KafkaJSNonRetriableError' && e.retriable === true) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/** True when a ClickHouse client error means "retry later" rather than a wrong query. */
export function clickhouseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const server =
    /^Code: (\d+)[,.]/.exec(err.message) ?? /^(\d+)$/.exec(String((err as { code?: unknown }).code));
  if (server) return CLICKHOUSE_RETRY_CODES.has(Number(server[1]));
  return networkFailure(err);
}

/**
 * What a client is told is unavailable, or null when the error is not an availability problem
 * (then it is a 500).
 */
export function unavailableDetail(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  if (err instanceof DependencyUnavailableError)
    return err.clientDetail ?? `${err.dependency} is unavailable; retry shortly`;
  if (err instanceof ProjectionUnavailableError) return 'the live state is being rebuilt; retry shortly';
  if (err instanceof UnreadableStateError)
    return 'the stored state of this number cannot be read until the projection repairs it; retry later';
  if (err.name.startsWith('KafkaJS'))
    return kafkaUnreachable(err) ? 'the event store is unavailable; retry shortly' : null;
  // ioredis: a command refused while disconnected, or after its retries.
  if (
    err.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable/.test(err.message)
  )
    return 'the live state store is unreachable; retry shortly';
  if (networkFailure(err)) return 'a data store is unreachable; retry shortly';
  return null;
}

/**
 * For an availability problem: logs it with the request id, sets Retry-After and returns the
 * standard detail; null (and nothing done) for any other error. For answers built by hand.
 */
export function markUnavailable(c: Context, err: unknown): string | null {
  const standard = unavailableDetail(err);
  if (standard === null) return null;
  if (err instanceof UnreadableStateError)
    // An operator must act (rebuild the number); the reason, not the number, goes to the log.
    requestLog(c).error(
      { route: c.req.routePath, reason: err.reason },
      'stored state record unreadable: rebuild it (processors rebuild)',
    );
  else
    requestLog(c).warn({ route: c.req.routePath, error: (err as Error).message }, 'dependency unavailable');
  const retryAfter =
    err instanceof DependencyUnavailableError
      ? err.retryAfterSeconds
      : err instanceof UnreadableStateError
        ? UNREADABLE_RETRY_AFTER_SECONDS
        : RETRY_AFTER_SECONDS;
  c.header('Retry-After', String(retryAfter));
  return standard;
}

/**
 * A 503 with Retry-After in the request's surface envelope when `err` is an availability problem
 * (logged with the request id), else null. `detail` replaces the standard wording.
 */
export function unavailableResponse(c: Context, err: unknown, detail?: string): Response | null {
  const standard = markUnavailable(c, err);
  return standard === null ? null : surfaceError(c, 'SERVICE_UNAVAILABLE', detail ?? standard);
}

/** The 500 for a bug: message and stack go to the log; the client gets the request id to quote. */
export function internalErrorResponse(c: Context, err: unknown): Response {
  const requestId = c.get('requestId') ?? null;
  // pino serialises `err` with its message and stack; the route, not the path (it can hold a number).
  requestLog(c).error({ route: c.req.routePath, err }, 'internal error');
  return surfaceError(c, 'INTERNAL_ERROR', `internal error; quote request id ${requestId ?? 'unknown'}`);
}

/** The answer to any error a route did not handle: 503 when a dependency is unavailable, else 500. */
export function errorResponse(c: Context, err: unknown): Response {
  return unavailableResponse(c, err) ?? internalErrorResponse(c, err);
}
