import type { EventCodec, VerificationEvent } from '@hub/schemas';
import type { Producer } from 'kafkajs';

export interface VerificationRecorderOptions {
  /** Most records held while Kafka is slow; beyond it, records are dropped and counted. */
  maxQueued?: number;
  flushIntervalMs?: number;
  onDropped?: (count: number) => void;
}

/**
 * Records every verification on the verifications topic off the request path: records are queued
 * and sent in batches every few milliseconds, so a verify call never waits for Kafka. The queue is
 * bounded; if Kafka is unreachable for long, the oldest usage records are dropped (and counted)
 * rather than exhausting memory — verification answers matter more than their usage log.
 */
export class VerificationRecorder {
  private queue: VerificationEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly maxQueued: number;
  private readonly flushIntervalMs: number;

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly topic: string,
    private readonly options: VerificationRecorderOptions = {},
  ) {
    this.maxQueued = options.maxQueued ?? 100_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
  }

  record(events: VerificationEvent[]): void {
    this.queue.push(...events);
    const excess = this.queue.length - this.maxQueued;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.options.onDropped?.(excess);
    }
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.flushIntervalMs);
  }

  /** Sends everything queued; resolves when Kafka has it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) await this.inFlight;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.inFlight = this.producer
      .send({
        topic: this.topic,
        messages: batch.map((e) => ({ key: e.msisdn, value: this.codec.encode('verification', e) })),
      })
      .then(
        () => undefined,
        () => {
          // Put the batch back in front; the bound above still applies on the next record().
          this.queue = batch.concat(this.queue);
          if (!this.timer) this.timer = setTimeout(() => void this.flush(), 1_000);
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
  }

  get queued(): number {
    return this.queue.length;
  }
}
