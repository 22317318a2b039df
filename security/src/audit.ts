import { createLogger, type Logger } from '@hub/infra';
import { type AuditEntry, type AuditRecorder, auditEventOf, Backlog, type DropReason } from '@hub/ingest';
import type { AuditEvent, EventCodec } from '@hub/schemas';
import type { Producer } from 'kafkajs';

export interface AuditLogOptions {
  flushIntervalMs?: number;
  /** Most entries held while Kafka is away; beyond it, the oldest are dropped and counted. */
  maxQueued?: number;
  retryMs?: number;
  now?: () => number;
  /** Where drops and failed sends are logged: the process's logger (default: one at info). */
  log?: Logger;
}

/**
 * The audit trail's writer: entries go to the audit topic (keyed by actor) in small batches off
 * the request path, and the history sink stores them in ClickHouse, which only ever appends.
 * Nothing in the hub updates or deletes an audit record. During a Kafka outage entries wait in a
 * bounded backlog, sent afterwards in slices under the broker's size limit; each entry keeps its
 * event id across retries, so a slice sent twice is stored once.
 */
export class AuditLog implements AuditRecorder {
  private readonly backlog: Backlog<AuditEvent>;
  /** Told of every drop (count and reason), for the process's metrics. */
  onDropped: ((count: number, reason: DropReason) => void) | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly topic: string,
    private readonly options: AuditLogOptions = {},
  ) {
    const log = (options.log ?? createLogger({ LOG_LEVEL: 'info' }, 'security')).child({
      component: 'audit',
    });
    this.backlog = new Backlog<AuditEvent>(
      async (slice) => {
        await this.producer.send({
          topic: this.topic,
          messages: slice.map((e) => ({ key: e.actor, value: this.codec.encode('audit', e) })),
        });
      },
      {
        maxQueued: options.maxQueued ?? 100_000,
        maxSliceRecords: 2_000,
        // An entry's Avro encoding is never longer than its JSON (strings as UTF-8 bytes plus a
        // length, numbers as varints), plus the framing.
        sizeOf: (e) => Buffer.byteLength(JSON.stringify(e)) + 64,
        flushIntervalMs: options.flushIntervalMs ?? 20,
        retryMs: options.retryMs ?? 1_000,
        onDropped: (count, reason) => {
          log.error({ count, reason }, 'audit entries dropped');
          this.onDropped?.(count, reason);
        },
        onSendFailed: (err, records) =>
          log.error({ err, records, queued: this.backlog.queued }, 'audit batch not sent; retrying'),
      },
    );
  }

  record(entry: AuditEntry): void {
    this.backlog.record([auditEventOf(entry, (this.options.now ?? Date.now)())]);
  }

  /** Entries dropped so far: the oldest beyond the bound, and any the broker refused as invalid. */
  get dropped(): number {
    return this.backlog.dropped['backlog-full'] + this.backlog.dropped['refused-by-broker'];
  }

  get queued(): number {
    return this.backlog.queued;
  }

  /** Sends everything queued; resolves when Kafka has it (or it failed and waits for a retry). */
  flush(): Promise<void> {
    return this.backlog.flush();
  }
}
