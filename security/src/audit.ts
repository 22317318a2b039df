import { type AuditEntry, type AuditRecorder, auditEventOf } from '@hub/ingest';
import type { AuditEvent, EventCodec } from '@hub/schemas';
import type { Producer } from 'kafkajs';

/**
 * The audit trail's writer: entries go to the audit topic (keyed by actor) in small batches off
 * the request path, and the history sink stores them in ClickHouse, which only ever appends.
 * Nothing in the hub updates or deletes an audit record.
 */
export class AuditLog implements AuditRecorder {
  private queue: AuditEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  dropped = 0;

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly topic: string,
    private readonly options: { flushIntervalMs?: number; maxQueued?: number; now?: () => number } = {},
  ) {}

  record(entry: AuditEntry): void {
    this.queue.push(auditEventOf(entry, (this.options.now ?? Date.now)()));
    const excess = this.queue.length - (this.options.maxQueued ?? 100_000);
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.dropped += excess;
      console.error(
        JSON.stringify({ level: 'error', message: 'audit queue full; oldest entries dropped', excess }),
      );
    }
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs ?? 20);
  }

  /** Sends everything queued; resolves when Kafka has it. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    this.inFlight = this.inFlight.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.producer.send({
          topic: this.topic,
          messages: batch.map((e) => ({ key: e.actor, value: this.codec.encode('audit', e) })),
        });
      } catch (err) {
        // Back in front of the queue: the next flush retries them.
        this.queue = [...batch, ...this.queue];
        this.timer ??= setTimeout(() => void this.flush(), 1_000);
        console.error(
          JSON.stringify({ level: 'error', message: 'audit batch not sent', error: (err as Error).message }),
        );
      }
    });
    return this.inFlight;
  }
}
