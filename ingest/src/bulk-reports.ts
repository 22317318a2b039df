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
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
  ) {}

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
