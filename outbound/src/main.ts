import {
  createClickHouse,
  createDatabase,
  createKafka,
  createLogger,
  createProducer,
  createRedis,
  loadConfig,
} from '@hub/infra';
import { OutboundWorker } from './worker.ts';

/**
 * The outbound delivery worker as its own process: watch lists, webhook fan-out and delivery, the
 * delivery log. SIGTERM/SIGINT let in-flight attempts finish, then disconnect.
 */
const config = loadConfig();
const logger = createLogger(config, 'outbound');
await createDatabase(config);
const kafka = createKafka(config);
const producer = createProducer(kafka);
await producer.connect();
const redis = createRedis(config);
const clickhouse = createClickHouse(config);
const worker = new OutboundWorker({
  config,
  kafka,
  producer,
  redis,
  clickhouse,
  log: (level, message, fields) => logger[level](fields ?? {}, message),
});
await worker.start();
logger.info({}, 'outbound worker running');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  await worker.stop();
  await producer.disconnect();
  await clickhouse.close();
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
