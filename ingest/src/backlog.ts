/**
 * A bounded backlog of records produced to Kafka off the request path (verification usage
 * records, audit entries). It sends in slices small enough for the broker (message.max.bytes is
 * 1 MiB by default: a backlog built up during an outage sent as one request would be refused
 * as too large on every retry and never drain), keeps a refused slice in front and retries it,
 * and drops — counting every drop and its reason — only in two cases: the oldest records beyond
 * the bound while Kafka is away, and a single record the broker refuses as invalid. A send that
 * does not settle in time counts as failed, so nothing waits on it forever.
 */

/** Where slices go; resolves once Kafka holds the slice. */
export type BacklogSink<T> = (slice: T[]) => Promise<void>;

export type DropReason = 'backlog-full' | 'refused-by-broker';

export interface BacklogOptions<T> {
  /** Most records held while Kafka is slow; beyond it, the oldest are dropped and counted. */
  maxQueued?: number;
  /** Most records per produce request. */
  maxSliceRecords?: number;
  /** Most bytes per produce request, with `sizeOf`; kept under the broker's 1 MiB. */
  maxSliceBytes?: number;
  /** An upper bound of one record's encoded size, in bytes; without it, slices are bounded by count. */
  sizeOf?: (record: T) => number;
  flushIntervalMs?: number;
  /** Wait before sending a refused slice again. */
  retryMs?: number;
  /** How long one send may take before it counts as failed. */
  sendTimeoutMs?: number;
  onDropped?: (count: number, reason: DropReason) => void;
  /** Told about each failed send (for the log); the backlog retries it. */
  onSendFailed?: (err: Error, records: number) => void;
}

/** Kept under the broker's default message.max.bytes (1 MiB) with room for batch overhead. */
export const MAX_SLICE_BYTES = 900 * 1024;

/**
 * Splits records into consecutive slices of at most `maxRecords` records and `maxBytes` bytes (by
 * `sizeOf`). A record larger than `maxBytes` on its own gets a slice of its own.
 */
export function slices<T>(
  records: readonly T[],
  maxRecords: number,
  maxBytes = Number.POSITIVE_INFINITY,
  sizeOf?: (record: T) => number,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = sizeOf ? sizeOf(record) : 0;
    if (current.length > 0 && (current.length >= maxRecords || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The broker refused the records themselves (too large, invalid): sending them again cannot help. */
export function refusedByBroker(err: unknown): boolean {
  const e = err as { name?: unknown; retriable?: unknown; type?: unknown };
  return e?.name === 'KafkaJSProtocolError' && e.retriable === false;
}

class SendTimeout extends Error {
  override readonly name = 'SendTimeout';
}

export class Backlog<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly maxQueued: number;
  private readonly maxSliceRecords: number;
  private readonly maxSliceBytes: number;
  private readonly flushIntervalMs: number;
  private readonly retryMs: number;
  private readonly sendTimeoutMs: number;
  /** Records dropped so far, by reason. */
  readonly dropped: Record<DropReason, number> = { 'backlog-full': 0, 'refused-by-broker': 0 };

  constructor(
    private readonly sink: BacklogSink<T>,
    private readonly options: BacklogOptions<T> = {},
  ) {
    this.maxQueued = options.maxQueued ?? 100_000;
    this.maxSliceRecords = options.maxSliceRecords ?? 2_000;
    this.maxSliceBytes = options.maxSliceBytes ?? MAX_SLICE_BYTES;
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
    this.retryMs = options.retryMs ?? 1_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  }

  record(records: readonly T[]): void {
    for (const r of records) this.queue.push(r);
    this.bound();
    this.schedule(this.flushIntervalMs);
  }

  /** Sends everything queued, slice by slice; resolves when Kafka has it, or a slice was refused. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) await this.inFlight;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = null;
    });
    await this.inFlight;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  get queued(): number {
    return this.queue.length;
  }

  private async send(batch: T[]): Promise<void> {
    const pending = slices(batch, this.maxSliceRecords, this.maxSliceBytes, this.options.sizeOf);
    while (pending.length > 0) {
      const slice = pending.shift()!;
      try {
        await this.withTimeout(this.sink(slice));
      } catch (err) {
        if (refusedByBroker(err)) {
          // One bad record must not hold the rest back: halve until the refused record is alone.
          if (slice.length > 1) {
            const half = Math.ceil(slice.length / 2);
            pending.unshift(slice.slice(0, half), slice.slice(half));
          } else this.drop(1, 'refused-by-broker');
          continue;
        }
        this.options.onSendFailed?.(err as Error, slice.length);
        // Back in front, in order; the bound applies to the whole backlog.
        this.queue = [...slice, ...pending.flat(), ...this.queue];
        this.bound();
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.schedule(this.retryMs);
        return;
      }
    }
  }

  private async withTimeout(p: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SendTimeout(`Kafka did not take the slice within ${this.sendTimeoutMs} ms`)),
        this.sendTimeoutMs,
      );
    });
    try {
      await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the oldest records beyond the bound, and counts them. */
  private bound(): void {
    const excess = this.queue.length - this.maxQueued;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.drop(excess, 'backlog-full');
    }
  }

  private drop(count: number, reason: DropReason): void {
    this.dropped[reason] += count;
    this.options.onDropped?.(count, reason);
  }

  private schedule(ms: number): void {
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), ms);
  }
}
