import {
  createClickHouse,
  createDatabase,
  createKafka,
  createProducer,
  createSchemaRegistry,
  loadConfig,
  topicNames,
} from '@hub/infra';
import { DataSubjectCodec, EventCodec } from '@hub/schemas';
import { migrate } from './history/migrate.ts';
import { HistorySink } from './history/sink.ts';
import { jsonLog, KafkaDeadLetters } from './kafka/index.ts';

/**
 * The history sink as its own process: applies the ClickHouse migrations, then streams every fact
 * topic into ClickHouse until SIGTERM/SIGINT, when it finishes the in-flight insert and commit.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = jsonLog('history-sink', config.LOG_LEVEL);
  await createDatabase(config);
  const clickhouse = createClickHouse(config);
  const outcome = await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  log('info', 'migrations', { database: config.CLICKHOUSE_DATABASE, ...outcome });

  const kafka = createKafka(config);
  const producer = createProducer(kafka);
  await producer.connect();
  const registry = createSchemaRegistry(config);
  const codec = new EventCodec(registry);
  const topics = topicNames(config.TOPIC_PREFIX);
  const dataSubjectCodec = new DataSubjectCodec(registry);
  await dataSubjectCodec.register(topics.dataSubject);
  const sink = new HistorySink({
    kafka,
    clickhouse,
    database: config.CLICKHOUSE_DATABASE,
    codec,
    topics,
    groupId: `${config.TOPIC_PREFIX}history-sink`,
    deadLetters: new KafkaDeadLetters(producer, codec),
    erasures: { codec: dataSubjectCodec },
    log,
  });

  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    if (stopping) return;
    log('info', 'stopping', { signal });
    stopping = sink
      .stop()
      .then(() => producer.disconnect())
      .then(() => clickhouse.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log('error', 'shutdown failed', { error: String(err) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await sink.start();
  log('info', 'history sink running', { database: config.CLICKHOUSE_DATABASE });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
