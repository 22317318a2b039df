import type { ClickHouseClient } from '@clickhouse/client';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { IdentitySources } from '@hub/identity-sources';
import type { Config, Logger } from '@hub/infra';
import type { IngestContext, Principal } from '@hub/ingest';
import type { Security } from '@hub/security';
import type { StateReading } from '@hub/state';
import type { Redis } from 'ioredis';
import type { DataSubjectService } from './data-subject/service.ts';
import type { WebhookApi } from './outbound/webhooks.ts';
import type { VerificationRecorder } from './verifications.ts';
import type { Workflow } from './workflow/context.ts';

/** Everything a handler depends on, built once at start-up; tests build their own. */
export interface ApiContext {
  config: Config;
  ingest: IngestContext;
  /** Organisations, users, API keys, sessions, rate limits and the audit trail. */
  security: Security;
  redis: Redis;
  /** Current state of many numbers in one Redis round trip. */
  readState(msisdns: readonly string[]): Promise<StateReading[]>;
  verifications: VerificationRecorder;
  clickhouse: ClickHouseClient;
  /** Dashboards read here: the read replica when one is configured, else the primary. */
  clickhouseRead: ClickHouseClient;
  /** How long bulk-verification result links stay valid. */
  resultTtlSeconds: number;
  now: () => number;
  /** The process's structured logger; a request that logs gets a child carrying its request id. */
  logger?: Logger;
  /** NIMC and NIBSS clients for live corroboration; built from NIMC_URL/NIBSS_URL when absent. */
  identitySources?: IdentitySources;
  /** Webhook subscriptions and the delivery log; the webhook routes are absent without it. */
  webhooks?: WebhookApi;
  /** The recycled-SIM registry and delink workflow (commands published, read model in Redis). */
  workflow?: Workflow;
  /** Data-subject requests and consents (events on the data-subject topic); built from config when absent. */
  dataSubject?: DataSubjectService;
}

export interface ApiEnv {
  /** `logRoot` is the process logger the request's child (`log`, with its id) is made from on first use. */
  Variables: { principal: Principal; requestId: string; log: Logger; logRoot: Logger };
}

export type ApiApp = OpenAPIHono<ApiEnv>;
