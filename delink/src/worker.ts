import { createIdentitySources, type IdentitySources } from '@hub/identity-sources';
import {
  type Config,
  createKafka,
  createLogger,
  createProducer,
  createRedis,
  createSchemaRegistry,
  ensureTopics,
  type Logger,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import {
  type AuditEntry,
  auditEventOf,
  Publisher,
  registerWorkflowSchemas,
  WorkflowWriter,
} from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import { workflowKeys } from '@hub/state/workflow/store';
import { Confirmer } from './confirmer.ts';
import { createDispatcher } from './dispatcher.ts';
import { WorkflowNotices } from './notices.ts';
import { createWorkflowProjector } from './projector.ts';

export interface DelinkWorkerOptions {
  /** Consumer-group names are `<TOPIC_PREFIX>delink-<role>` unless given. */
  groupPrefix?: string;
  sources?: IdentitySources;
  log?: Logger;
  sweepMs?: number;
}

export interface RunningDelinkWorker {
  /** Drains each consumer's batch in flight, commits, then closes every client. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The delink worker: the workflow projector (delink and recycled-SIMs topics → Redis), the
 * dispatcher (approvals → NIMC/NIBSS) and the confirmer (state record shows every linkage cleared →
 * COMPLETED), each its own consumer group, in one process.
 */
export async function runDelinkWorker(
  config: Config,
  options: DelinkWorkerOptions = {},
): Promise<RunningDelinkWorker> {
  const log = options.log ?? createLogger(config, 'delink-dispatcher');
  const kafka = createKafka(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
  } finally {
    await admin.disconnect();
  }
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerWorkflowSchemas(codec, topics);
  await codec.register('audit', topics.audit);
  await codec.register('state-change', topics.stateChanges);
  const producer = createProducer(kafka);
  await producer.connect();
  const redis = createRedis(config);
  const keys = workflowKeys(config.REDIS_KEY_PREFIX);
  const writer = new WorkflowWriter(producer, codec, topics, redis, keys);
  const auditPublisher = new Publisher(producer, codec);
  const audit = async (entry: AuditEntry) => {
    const value = auditEventOf(entry, Date.now());
    await auditPublisher.publish('audit', topics.audit, [{ key: entry.actor, value }]);
  };
  const notices = await WorkflowNotices.create(config, topics, producer);
  const group = options.groupPrefix ?? `${config.TOPIC_PREFIX}delink-`;
  const sources = options.sources ?? createIdentitySources(config);
  const base = { kafka, codec, redis, keys, topics, log };
  const projector = createWorkflowProjector({ ...base, groupId: `${group}projector` });
  const dispatcher = createDispatcher({
    ...base,
    groupId: `${group}dispatcher`,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    sources,
    writer,
    audit,
    notices,
  });
  const confirmer = new Confirmer({
    ...base,
    groupId: `${group}confirmer`,
    redisKeyPrefix: config.REDIS_KEY_PREFIX,
    writer,
    audit,
    notices,
    ...(options.sweepMs === undefined ? {} : { sweepMs: options.sweepMs }),
  });
  await projector.start();
  await dispatcher.start();
  await confirmer.start();
  log.info({ topics: [topics.delink, topics.recycledSims, topics.stateChanges] }, 'delink worker running');
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        await confirmer.stop();
        await dispatcher.stop();
        await projector.stop();
        await producer.disconnect();
        await redis.quit();
      })();
      return stopping;
    },
  };
}
