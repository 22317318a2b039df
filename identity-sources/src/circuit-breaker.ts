/** What a breaker is doing: passing calls, refusing them, or letting one probe through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before it lets one probe through. */
  openMs: number;
  now?: () => number;
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
}

/** Thrown instead of calling a source whose circuit is open: the caller answers at once. */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  constructor(
    readonly source: string,
    readonly retryInMs: number,
  ) {
    super(
      `${source} circuit is open after repeated failures; next probe in ${Math.ceil(retryInMs / 1000)} s`,
    );
  }
}

/**
 * Stops a slow or failing source from holding every request for its full timeout. Closed: calls
 * pass and consecutive failures are counted. Open: calls fail fast until `openMs` has passed.
 * Half-open: exactly one probe call passes; its success closes the circuit, its failure re-opens it.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(
    readonly source: string,
    private readonly options: CircuitBreakerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The state as of now: an open circuit whose wait is over reports half-open. */
  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.openMs) return 'half-open';
    return this.current;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) {
      const wait = Math.max(0, this.options.openMs - (this.now() - this.openedAt));
      throw new CircuitOpenError(this.source, wait);
    }
    if (state === 'half-open') {
      this.transition('half-open');
      this.probing = true;
    }
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (err) {
      this.failed();
      throw err;
    } finally {
      if (state === 'half-open') this.probing = false;
    }
  }

  private succeeded(): void {
    this.failures = 0;
    this.transition('closed');
  }

  private failed(): void {
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.options.onStateChange?.(from, to);
  }
}
