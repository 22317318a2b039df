import { CircuitBreaker, CircuitOpenError } from './circuit-breaker.ts';

/** Why a source could not answer; the corroboration reports it as the source's reason. */
export type SourceFailure = 'timeout' | 'network' | 'http' | 'circuit-open' | 'bad-response';

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly source: string,
    readonly failure: SourceFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubles each time, capped at `maxDelayMs`, with jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface SourceClientOptions {
  /** Name in errors, logs and answers ("NIMC", "NIBSS"). */
  source: string;
  baseUrl: string;
  /** Per attempt. */
  timeoutMs: number;
  retry: RetryOptions;
  /** Consecutive failed calls (after their retries) that open the circuit, and how long it stays open. */
  breaker: { failureThreshold: number; openMs: number };
  fetch?: typeof fetch;
  now?: () => number;
  /** Called before each retry: metrics and tests see every retry. */
  onRetry?: (attempt: number, error: SourceError) => void;
}

export const DEFAULT_SOURCE_OPTIONS = {
  timeoutMs: 1500,
  retry: { attempts: 3, initialDelayMs: 100, maxDelayMs: 1000 },
  breaker: { failureThreshold: 5, openMs: 30_000 },
} as const satisfies Partial<SourceClientOptions>;

export interface SourceResponse {
  status: number;
  body: unknown;
}

/** 408, 429 and 5xx mean "try again"; any other status is the source's answer. */
const retriable = (status: number) => status === 408 || status === 429 || status >= 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * JSON over HTTP to an external source: a timeout per attempt, retries with exponential backoff and
 * jitter for timeouts, network errors and retriable statuses, and a circuit breaker around each
 * whole call, so a source that is down costs one fast failure rather than a timeout per request.
 */
export class SourceClient {
  readonly breaker: CircuitBreaker;
  private readonly fetch: typeof fetch;
  private readonly baseUrl: string;

  constructor(private readonly options: SourceClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.breaker = new CircuitBreaker(options.source, {
      ...options.breaker,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get source(): string {
    return this.options.source;
  }

  /**
   * GET or POST `path`; resolves with any non-retriable status and its parsed JSON body. `headers`
   * go on every attempt unchanged (an `Idempotency-Key` makes a retried POST safe at the source).
   */
  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<SourceResponse> {
    try {
      return await this.breaker.run(() => this.withRetries(method, path, body, headers));
    } catch (err) {
      if (err instanceof CircuitOpenError) throw new SourceError(this.source, 'circuit-open', err.message);
      throw err;
    }
  }

  private async withRetries(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<SourceResponse> {
    const { attempts, initialDelayMs, maxDelayMs } = this.options.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(method, path, body, headers);
      } catch (err) {
        const error = err instanceof SourceError ? err : new SourceError(this.source, 'network', String(err));
        const again = attempt < attempts && error.failure !== 'bad-response';
        if (!again) throw error;
        this.options.onRetry?.(attempt, error);
        const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
        // Full jitter between half and all of the backoff: callers that failed together do not retry together.
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  private async attempt(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<SourceResponse> {
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...headers,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new SourceError(
          this.source,
          'timeout',
          `${this.source} did not answer in ${this.options.timeoutMs} ms`,
        );
      }
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new SourceError(
        this.source,
        'network',
        `${this.source} unreachable${cause ? ` (${cause})` : ''}`,
      );
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new SourceError(
        this.source,
        'timeout',
        `${this.source} did not finish its answer in ${this.options.timeoutMs} ms`,
      );
    }
    if (retriable(response.status)) {
      throw new SourceError(
        this.source,
        'http',
        `${this.source} answered HTTP ${response.status}`,
        response.status,
      );
    }
    let parsed: unknown = null;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new SourceError(
          this.source,
          'bad-response',
          `${this.source} answered HTTP ${response.status} with a body that is not JSON`,
          response.status,
        );
      }
    }
    return { status: response.status, body: parsed };
  }
}
