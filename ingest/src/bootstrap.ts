import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Config,
  createKafka,
  createLogger,
  createProducer,
  createRedis,
  createSchemaRegistry,
  type Logger,
  type TopicNames,
  topicNames,
} from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import { readState } from '@hub/state/read';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { BulkReportStore } from './bulk-reports.ts';
import type { IngestContext } from './context.ts';
import {
  type AuditRecorder,
  type Authenticator,
  auditEventOf,
  type StaticApiKey,
  staticApiKeyAuthenticator,
} from './principal.ts';
import { Publisher } from './publisher.ts';

export const BULK_REPORT_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_BULK_BODY_BYTES = 64 * 1024 * 1024;

/** API keys from a file: for tests and offline tools; the server's keys come from the accounts topic. */
export const apiKeysFile = (config: Pick<Config, 'HUB_DATA_DIR'>): string =>
  join(config.HUB_DATA_DIR, 'api-keys.json');

export function loadStaticApiKeys(file: string): StaticApiKey[] {
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, 'utf8')) as StaticApiKey[];
}

/** Registers the current schema of every event kind ingest writes, under its topic's subject. */
export async function registerIngestSchemas(codec: EventCodec, topics: TopicNames): Promise<void> {
  await codec.register('status-update', topics.statusUpdates);
  await codec.register('nin-linkage', topics.ninLinkages);
  await codec.register('bvn-linkage', topics.bvnLinkages);
  await codec.register('delink', topics.delink);
  await codec.register('audit', topics.audit);
}

export interface IngestResources {
  ctx: IngestContext;
  producer: Producer;
  redis: Redis;
  close(): Promise<void>;
}

export async function createIngestContext(
  config: Config,
  options: {
    authenticate?: Authenticator;
    audit?: AuditRecorder;
    servingOperators?: IngestContext['servingOperators'];
    now?: () => number;
    /** A client shared with the rest of the process (its owner closes it). */
    redis?: Redis;
    /** The process's logger (default: one named ingest, at LOG_LEVEL). */
    log?: Logger;
  } = {},
): Promise<IngestResources> {
  const topics = topicNames(config.TOPIC_PREFIX);
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerIngestSchemas(codec, topics);
  // Its acknowledgements are the API's answers; createProducer has one send in flight at a time.
  const producer = createProducer(createKafka(config));
  await producer.connect();
  // Auto-pipelining: the commands of concurrent requests issued in one tick go out in one write.
  const redis = options.redis ?? createRedis(config, { enableAutoPipelining: true });
  const publisher = new Publisher(producer, codec);
  const ctx: IngestContext = {
    topics,
    publisher,
    reports: new BulkReportStore(redis, config.REDIS_KEY_PREFIX, BULK_REPORT_TTL_SECONDS),
    authenticate: options.authenticate ?? staticApiKeyAuthenticator(loadStaticApiKeys(apiKeysFile(config))),
    audit:
      options.audit ??
      directAuditRecorder(publisher, topics.audit, options.log ?? createLogger(config, 'ingest')),
    servingOperators:
      options.servingOperators ??
      (async (msisdns) =>
        (await readState(redis, config.REDIS_KEY_PREFIX, msisdns)).map((r) => r.record?.operator ?? null)),
    tokenSecret: config.TOKEN_SECRET,
    maxBulkBodyBytes: MAX_BULK_BODY_BYTES,
    now: options.now ?? Date.now,
  };
  return {
    ctx,
    producer,
    redis,
    async close() {
      await producer.disconnect();
      if (!options.redis) redis.disconnect();
    },
  };
}

/** Publishes each audit entry on its own (the API's security layer batches instead). */
function directAuditRecorder(publisher: Publisher, topic: string, log: Logger): AuditRecorder {
  return {
    record(entry) {
      const event = auditEventOf(entry, Date.now());
      publisher.publish('audit', topic, [{ key: event.actor, value: event }]).catch((err: Error) => {
        log.error({ err, action: event.action, eventId: event.eventId }, 'audit entry not published');
      });
    },
  };
}
