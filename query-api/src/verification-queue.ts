import type { VerificationEvent } from '@hub/schemas';

/** A verification as the request path records it; the recorder gives it its event id. */
export type NewVerification = Omit<VerificationEvent, 'eventId'>;

/** Where batches of verification records go; resolves once they are durable. */
export type VerificationSink = (events: NewVerification[]) => Promise<void>;

export interface VerificationQueueOptions {
  /** Most records held while Kafka is slow; beyond it, the oldest are dropped and counted. */
  maxQueued?: number;
  flushIntervalMs?: number;
  /** Wait before sending a batch again after the sink refused it. */
  retryMs?: number;
  onDropped?: (count: number) => void;
}

/**
 * Batches verification records for a sink: records are sent every few milliseconds, so a verify
 * call never waits for Kafka. The queue is bounded; if Kafka is unreachable for long, the oldest
 * usage records are dropped (and counted) rather than exhausting memory — verification answers
 * matter more than their usage log. A refused batch goes back in front and is tried again.
 */
export class VerificationQueue {
  private queue: NewVerification[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly maxQueued: number;
  private readonly flushIntervalMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly sink: VerificationSink,
    private readonly options: VerificationQueueOptions = {},
  ) {
    this.maxQueued = options.maxQueued ?? 100_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
    this.retryMs = options.retryMs ?? 1_000;
  }

  record(events: readonly NewVerification[]): void {
    for (const e of events) this.queue.push(e);
    this.bound();
    this.schedule(this.flushIntervalMs);
  }

  /** Sends everything queued; resolves when the sink has it (or has refused it). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) await this.inFlight;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.inFlight = this.sink(batch)
      .then(
        () => undefined,
        () => {
          this.queue = batch.concat(this.queue);
          this.bound();
          this.schedule(this.retryMs);
        },
      )
      .finally(() => {
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

  /** Drops the oldest records beyond the bound, and counts them. */
  private bound(): void {
    const excess = this.queue.length - this.maxQueued;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.options.onDropped?.(excess);
    }
  }

  private schedule(ms: number): void {
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), ms);
  }
}
