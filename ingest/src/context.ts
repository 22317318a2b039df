import type { OpenAPIHono } from '@hono/zod-openapi';
import type { TopicNames } from '@hub/infra';
import type { BulkReportStore } from './bulk-reports.ts';
import type { Authenticator, Principal } from './principal.ts';
import type { Publisher } from './publisher.ts';

/** Everything an ingest handler depends on, built once at start-up (tests hand in their own). */
export interface IngestContext {
  topics: TopicNames;
  publisher: Publisher;
  reports: BulkReportStore;
  authenticate: Authenticator;
  /** Secret for NIN/BVN/NUBAN tokens (HMAC); raw identifiers never go further than ingest. */
  tokenSecret: string;
  /** Largest request body accepted on bulk routes, in bytes. */
  maxBulkBodyBytes: number;
  now: () => number;
}

export interface IngestEnv {
  Variables: { principal: Principal };
}

export type IngestApp = OpenAPIHono<IngestEnv>;
