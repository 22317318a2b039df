import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { KafkaOutcome } from './acceptance.ts';

export interface Rejection {
  index: number;
  phoneNumber: string | null;
  field: string;
  reason: string;
}

export interface BulkReport {
  batchId: string;
  organisation: string;
  kind: 'STATUS_UPDATE' | 'UPLOAD' | 'FILE' | 'IDENTITY_FEED';
  receivedAt: string;
  total: number;
  accepted: number;
  rejected: number;
  rejections: Rejection[];
  /**
   * Present when Kafka failed part-way through the request: which records (request index ranges)
   * are on Kafka, may be, and were never sent. `accepted` then counts the published ones only.
   */
  kafka?: KafkaOutcome;
}

/** Per-record outcome of a bulk request, kept for the response link for a configured time. */
export class BulkReportStore {
  /** Bulk requests sent with an `Idempotency-Key`, kept as long as their reports. */
  readonly idempotency: IdempotencyStore;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
  ) {
    this.idempotency = new IdempotencyStore(redis, keyPrefix, ttlSeconds);
  }

  key(batchId: string): string {
    return `${this.keyPrefix}bulk:${batchId}`;
  }

  async save(report: BulkReport): Promise<void> {
    await this.redis.set(this.key(report.batchId), JSON.stringify(report), 'EX', this.ttlSeconds);
  }

  async get(batchId: string): Promise<BulkReport | null> {
    const raw = await this.redis.get(this.key(batchId));
    return raw ? (JSON.parse(raw) as BulkReport) : null;
  }
}

/** An `Idempotency-Key` header: 1 to 128 letters, digits, `_`, `-`, `.` or `:` (a UUID fits). */
export const IDEMPOTENCY_KEY = /^[\w.:-]{1,128}$/;

/** What a bulk request under an `Idempotency-Key` should do, from what the hub holds for that key. */
export type IdempotentClaim =
  /** First use: process it (this request holds the key until it settles). */
  | { kind: 'new' }
  /** An earlier attempt got part of it onto Kafka: send from event `published` on, same batch. */
  | { kind: 'resume'; published: number; batchId: string }
  /** An earlier attempt finished: answer what it answered, send nothing. */
  | { kind: 'replay'; status: number; body: unknown }
  /** Another request with this key is being processed now. */
  | { kind: 'busy' }
  /** The key was used for a different request body. */
  | { kind: 'mismatch' };

interface IdempotencyRecord {
  fingerprint: string;
  batchId: string;
  /** Leading events known to be on Kafka. */
  published: number;
  response?: { status: number; body: unknown };
}

/** A request body's fingerprint, to tell a retry from a different request under the same key. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * Idempotency of bulk requests: what the hub holds per (organisation, route, key) — the body's
 * fingerprint, how many leading events are on Kafka, and the final answer once there is one — so
 * a client that lost an answer, or got a 503 part-way, can resend the same request with the same
 * key: events known to be on Kafka are not sent again, and a finished request is answered from the
 * record without sending anything.
 */
export class IdempotencyStore {
  /** A request holds its key this long at most (a process that dies releases it by expiry). */
  private static readonly HOLD_MS = 120_000;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private recordKey(scope: string): string {
    return `${this.keyPrefix}idem:${scope}`;
  }

  private holdKey(scope: string): string {
    return `${this.keyPrefix}idem-hold:${scope}`;
  }

  async claim(scope: string, fingerprint: string): Promise<IdempotentClaim> {
    const held = await this.redis.set(this.holdKey(scope), '1', 'PX', IdempotencyStore.HOLD_MS, 'NX');
    if (held === null) return { kind: 'busy' };
    const raw = await this.redis.get(this.recordKey(scope));
    if (!raw) return { kind: 'new' };
    const record = JSON.parse(raw) as IdempotencyRecord;
    if (record.fingerprint !== fingerprint) {
      await this.release(scope);
      return { kind: 'mismatch' };
    }
    if (record.response) {
      await this.release(scope);
      return { kind: 'replay', ...record.response };
    }
    return { kind: 'resume', published: record.published, batchId: record.batchId };
  }

  /** Kafka failed part-way: remember how far it got, and let the next attempt in. */
  async settlePartial(scope: string, fingerprint: string, batchId: string, published: number): Promise<void> {
    await this.write(scope, { fingerprint, batchId, published });
  }

  /** The request is finished: remember its answer, and let the next attempt in. */
  async settleDone(
    scope: string,
    fingerprint: string,
    batchId: string,
    published: number,
    response: { status: number; body: unknown },
  ): Promise<void> {
    await this.write(scope, { fingerprint, batchId, published, response });
  }

  async release(scope: string): Promise<void> {
    await this.redis.del(this.holdKey(scope));
  }

  private async write(scope: string, record: IdempotencyRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.recordKey(scope), JSON.stringify(record), 'EX', this.ttlSeconds)
      .del(this.holdKey(scope))
      .exec();
  }
}
