import { createIdentitySources } from '@hub/identity-sources';
import {
  type Config,
  createClickHouse,
  createKafka,
  createLogger,
  createProducer,
  createRedis,
  createSchemaRegistry,
} from '@hub/infra';
import { createIngestContext } from '@hub/ingest';
import { EmailAdapter, mailNotifier } from '@hub/outbound';
import { Security, type SecurityOptions } from '@hub/security';
import { readState } from '@hub/state';
import type { ApiContext } from './context.ts';
import { DataSubjectService } from './data-subject/service.ts';
import { auditDropped, observeStateRead, verificationsDropped } from './metrics.ts';
import { createWebhookApi } from './outbound/webhooks.ts';
import type { DependencyProbe } from './routes/health.ts';
import { VerificationRecorder } from './verifications.ts';
import { createWorkflow } from './workflow/context.ts';
import { ChannelHub } from './ws/channels.ts';

export const RESULT_TTL_SECONDS = 24 * 3600;

export interface ApiResources {
  ctx: ApiContext;
  probes: DependencyProbe[];
  /** WebSocket channels; main.ts attaches them to the HTTP server. */
  channels: ChannelHub;
  close(): Promise<void>;
}

/** Connects everything the API needs, once, at start-up. */
export async function createApiContext(
  config: Config,
  overrides: Partial<Pick<ApiContext, 'now'>> &
    Parameters<typeof createIngestContext>[1] & { security?: SecurityOptions } = {},
): Promise<ApiResources> {
  // The API process's one logger: security's and ingest's lines carry the query API's service name.
  const log = overrides.log ?? createLogger(config, 'query-api');
  // One Redis client for the request path: with auto-pipelining, a request's rate-limit hit and
  // state read, and those of concurrent requests, share writes to the socket.
  const redis = createRedis(config, { enableAutoPipelining: true });
  const security = await Security.create(config, {
    redis,
    log,
    // Password-reset mail goes out over SMTP (the local sink by default), like other notifications.
    notify: mailNotifier(new EmailAdapter(config.SMTP_URL, config.MAIL_FROM)),
    ...overrides.security,
    ...(overrides.now ? { now: overrides.now } : {}),
  });
  const ingest = await createIngestContext(config, {
    authenticate: security.authenticate,
    audit: security.audit,
    redis,
    log,
    ...overrides,
  });
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const clickhouse = createClickHouse(config);
  const clickhouseRead = config.CLICKHOUSE_READ_URL ? createClickHouse(config, { read: true }) : clickhouse;
  const verifications = await VerificationRecorder.start(config, ingest.ctx.topics.verifications, {
    onDropped: (n, reason) => verificationsDropped.inc({ reason }, n),
  });
  security.audit.onDropped = (n, reason) => auditDropped.inc({ reason }, n);
  const outboundProducer = createProducer(kafka);
  await outboundProducer.connect();
  const webhooks = await createWebhookApi({
    config,
    kafka,
    producer: outboundProducer,
    redis,
    clickhouse,
    topics: ingest.ctx.topics,
    registry: createSchemaRegistry(config),
    now: overrides.now ?? Date.now,
  });
  const workflow = await createWorkflow(config, ingest.ctx.topics, ingest.producer, redis);
  const channels = new ChannelHub({ config, kafka, authenticate: security.authenticate });
  await channels.start();
  const dataSubject = new DataSubjectService(config);
  const ctx: ApiContext = {
    webhooks,
    workflow,
    dataSubject,
    config,
    ingest: ingest.ctx,
    security,
    redis,
    async readState(msisdns) {
      const started = performance.now();
      try {
        return await readState(redis, config.REDIS_KEY_PREFIX, msisdns);
      } finally {
        observeStateRead(msisdns.length, started);
      }
    },
    verifications,
    clickhouse,
    clickhouseRead,
    resultTtlSeconds: RESULT_TTL_SECONDS,
    now: overrides.now ?? Date.now,
    identitySources: createIdentitySources(config),
  };
  const probes: DependencyProbe[] = [
    { name: 'redis', check: async () => void (await redis.ping()) },
    { name: 'kafka', check: async () => void (await admin.describeCluster()) },
    {
      name: 'clickhouse',
      check: async () =>
        void (await clickhouse.ping().then((r) => {
          if (!r.success) throw r.error;
        })),
    },
  ];
  return {
    ctx,
    probes,
    channels,
    async close() {
      await channels.stop();
      await dataSubject.stop();
      await workflow.jobs.idle();
      await verifications.close();
      await webhooks.close();
      await outboundProducer.disconnect();
      await admin.disconnect();
      await clickhouse.close();
      if (clickhouseRead !== clickhouse) await clickhouseRead.close();
      await ingest.close();
      await security.close();
      redis.disconnect();
    },
  };
}
