import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger, TopicNames } from '@hub/infra';
import type { BulkReportStore } from './bulk-reports.ts';
import type { AuditRecorder, Authenticator, Principal } from './principal.ts';
import type { Publisher } from './publisher.ts';

/** Everything an ingest handler depends on, built once at start-up (tests hand in their own). */
export interface IngestContext {
  topics: TopicNames;
  publisher: Publisher;
  reports: BulkReportStore;
  authenticate: Authenticator;
  /** The audit trail: status updates, bulk uploads and permission denials are recorded here. */
  audit: AuditRecorder;
  /** The serving operator of each number from its current state (null: unknown), in order. */
  servingOperators(msisdns: readonly string[]): Promise<(string | null)[]>;
  /** Secret for NIN/BVN/NUBAN tokens (HMAC); raw identifiers never go further than ingest. */
  tokenSecret: string;
  /** Largest request body accepted on bulk routes, in bytes. */
  maxBulkBodyBytes: number;
  now: () => number;
}

export interface IngestEnv {
  Variables: { principal: Principal; requestId?: string; log?: Logger };
}

export type IngestApp = OpenAPIHono<IngestEnv>;
