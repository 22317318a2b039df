import { Backlog, type BacklogOptions, type BacklogSink } from '@hub/ingest';
import type { VerificationEvent } from '@hub/schemas';

/** A verification as the request path records it; the recorder gives it its event id. */
export type NewVerification = Omit<VerificationEvent, 'eventId'>;

/** Where slices of verification records go; resolves once they are durable. */
export type VerificationSink<T = NewVerification> = BacklogSink<T>;

export type VerificationQueueOptions<T = NewVerification> = BacklogOptions<T>;

/**
 * Batches verification records for Kafka: records are sent every few milliseconds, so a verify
 * call never waits for Kafka. The queue is bounded; if Kafka is unreachable for long, the oldest
 * usage records are dropped (and counted) rather than exhausting memory — verification answers
 * matter more than their usage log. The backlog an outage leaves is sent in slices of at most
 * 2,000 records (a verification record encodes to under 300 bytes: under 600 KB a request, below
 * the broker's 1 MiB limit), and a refused slice goes back in front and is tried again.
 */
export class VerificationQueue<T = NewVerification> extends Backlog<T> {
  constructor(sink: VerificationSink<T>, options: VerificationQueueOptions<T> = {}) {
    super(sink, { maxSliceRecords: 2_000, ...options });
  }
}
