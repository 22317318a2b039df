import { createClickHouse, createKafka, loadConfig, topicNames } from '@hub/infra';
import { applyRetention } from './retention.ts';

/**
 * The retention job: drops ClickHouse month partitions older than each table's retention and sets
 * the dead-letter topics' retention (processors/src/history/retention.ts). Run it daily, e.g. from
 * cron: `tsx processors/src/history/retention-cli.ts`; `--dry-run` prints what would go.
 */
const dryRun = process.argv.includes('--dry-run');
const config = loadConfig();
const clickhouse = createClickHouse(config);
const admin = createKafka(config).admin();
await admin.connect();
try {
  const report = await applyRetention({
    clickhouse,
    database: config.CLICKHOUSE_DATABASE,
    admin,
    topics: topicNames(config.TOPIC_PREFIX),
    dryRun,
  });
  process.stdout.write(`${JSON.stringify({ dryRun, ...report })}\n`);
} finally {
  await admin.disconnect();
  await clickhouse.close();
}
