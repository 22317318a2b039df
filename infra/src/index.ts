export {
  type ClickHouseOptions,
  createClickHouse,
  createDatabase,
  quoteIdentifier,
} from './clients/clickhouse.ts';
export { createKafka, createProducer, kafkaLogLevel } from './clients/kafka.ts';
export { createRecordProducer, type KeyedRecord, type RecordProducer } from './clients/record-producer.ts';
export { createRedis } from './clients/redis.ts';
export { createSchemaRegistry } from './clients/registry.ts';
export {
  type Config,
  ConfigError,
  type ConfigVariable,
  configTableMarkdown,
  configVariables,
  DEV_JWT_SECRET,
  DEV_TOKEN_SECRET,
  type LogLevel,
  loadConfig,
  repoRoot,
} from './config.ts';
export { bufferedStdout, createLogger, type Logger } from './logger.ts';
export { murmur2, partitionFor } from './partitioning.ts';
export {
  deadLetterTopic,
  deleteTopicsWithPrefix,
  type EnsureTopicsResult,
  ensureTopics,
  type SourceTopic,
  sourceTopics,
  type TopicNames,
  type TopicSpec,
  topicNames,
  topicSpecs,
} from './topics.ts';
export { startWorkerThread } from './worker-thread.ts';
