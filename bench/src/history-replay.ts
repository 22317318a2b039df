import { generatePopulation, publishSample } from '@hub/dev-tools/sample/index';
import {
  createClickHouse,
  createDatabase,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  quoteIdentifier,
  topicNames,
} from '@hub/infra';
import { migrate } from '@hub/processors/history/migrate';
import { HistorySink } from '@hub/processors/history/sink';
import { KafkaDeadLetters } from '@hub/processors/kafka/index';
import { runStateBuilder } from '@hub/processors/state-builder/runtime';
import { EventCodec } from '@hub/schemas';
import { sqlString } from '@hub/state/history/queries';
import { RAW_TABLES } from '@hub/state/history/tables';
import type { Admin } from 'kafkajs';
import { benchConfig, createTopics, dropBenchData, groupLag, waitForLag } from './env.ts';
import type { Row } from './table.ts';

export interface ReplayBenchOptions {
  /** Numbers in the synthetic sample (its events span 2019–2024, so about 72 received months). */
  numbers: number;
}

export interface ReplayRaw {
  numbers: number;
  /** Records on the seven history topics (sample events plus the builder's state changes). */
  records: number;
  stateChanges: number;
  receivedMonths: number;
  sinkSeconds: number;
  rowsStored: number;
  /** Active parts of the raw tables right after the replay, before background merges. */
  rawParts: number;
  /** Active parts of every table of the database right after the replay. */
  allParts: number;
}

/**
 * A multi-month replay through the history sink, the way a rebuild of ClickHouse runs: the sample
 * (events received over six years) is published, the real state builder turns it into StateChange
 * records, and then a history sink starts on the full topics with an empty database. Timed from
 * the sink's start until its group has committed every record; every record must be stored once.
 */
export async function benchSinkReplay(o: ReplayBenchOptions): Promise<{ rows: Row[]; raw: ReplayRaw }> {
  const config = benchConfig('replay');
  await createTopics(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const inputs = [topics.statusUpdates, topics.ninLinkages, topics.bvnLinkages, topics.delink];
  const historyInputs = [...inputs, topics.verifications, topics.stateChanges, topics.audit];
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(config);
  const clickhouse = createClickHouse(config, { requestTimeoutMs: 300_000 });
  const producer = createProducer(kafka);
  await producer.connect();
  let sink: HistorySink | null = null;
  try {
    const population = generatePopulation({
      numbers: o.numbers,
      seed: 7,
      tokenSecret: config.TOKEN_SECRET,
      startDate: '2019-01-01',
      endDate: '2024-12-31',
    });
    await publishSample(population, {
      producer,
      registry: createSchemaRegistry(config),
      topics,
      batchSize: 5000,
    });
    const builderGroup = `${config.TOPIC_PREFIX}state-builder`;
    const builder = await runStateBuilder(config, {
      groupId: builderGroup,
      publishStateChanges: true,
      log: () => {},
    });
    try {
      await waitForLag(admin, builderGroup, inputs, 900_000);
    } finally {
      await builder.stop();
    }

    await createDatabase(config);
    await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
    const codec = new EventCodec(createSchemaRegistry(config));
    const sinkGroup = `${config.TOPIC_PREFIX}history-sink`;
    let records = 0;
    for (const t of historyInputs) records += await topicSize(admin, t);
    const stateChanges = await topicSize(admin, topics.stateChanges);

    const started = performance.now();
    sink = new HistorySink({
      kafka,
      clickhouse,
      database: config.CLICKHOUSE_DATABASE,
      codec,
      topics,
      groupId: sinkGroup,
      deadLetters: new KafkaDeadLetters(producer, codec),
      log: () => {},
    });
    await sink.start();
    const deadline = started + 900_000;
    while ((await groupLag(admin, sinkGroup, historyInputs)) > 0) {
      if (performance.now() > deadline) throw new Error('the sink did not finish the replay in 15 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sinkSeconds = (performance.now() - started) / 1000;
    await sink.stop();
    sink = null;

    const db = quoteIdentifier(config.CLICKHOUSE_DATABASE);
    const name = sqlString(config.CLICKHOUSE_DATABASE);
    let rowsStored = 0;
    for (const table of Object.values(RAW_TABLES)) {
      rowsStored += await scalar(clickhouse, `SELECT count() FROM ${db}.${table}`);
    }
    const rawList = Object.values(RAW_TABLES).map(sqlString).join(', ');
    const rawParts = await scalar(
      clickhouse,
      `SELECT count() FROM system.parts WHERE active AND database = ${name} AND table IN (${rawList})`,
    );
    const allParts = await scalar(
      clickhouse,
      `SELECT count() FROM system.parts WHERE active AND database = ${name}`,
    );
    const receivedMonths = await scalar(
      clickhouse,
      `SELECT uniqExact(toYYYYMM(received_date)) FROM ${db}.${RAW_TABLES['status-update']}`,
    );
    const raw: ReplayRaw = {
      numbers: o.numbers,
      records,
      stateChanges,
      receivedMonths,
      sinkSeconds,
      rowsStored,
      rawParts,
      allParts,
    };
    return { rows: replayRows(raw), raw };
  } finally {
    await sink?.stop();
    await producer.disconnect();
    await admin.disconnect();
    await clickhouse.close();
    await dropBenchData(config, redis).catch((err: Error) =>
      console.error(`bench: cleaning up ${config.CLICKHOUSE_DATABASE} failed: ${err.message}`),
    );
    await redis.quit();
  }
}

async function topicSize(admin: Admin, topic: string): Promise<number> {
  let n = 0;
  for (const p of await admin.fetchTopicOffsets(topic)) n += Number(p.high) - Number(p.low);
  return n;
}

async function scalar(client: ReturnType<typeof createClickHouse>, query: string): Promise<number> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  const rows = await result.json<Record<string, string | number>>();
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

const fmt = (n: number) => n.toLocaleString('en-US');

function replayRows(r: ReplayRaw): Row[] {
  const rate = Math.round(r.records / r.sinkSeconds);
  const exact = r.rowsStored === r.records;
  return [
    {
      benchmark: `history sink replay (${fmt(r.records)} records over ${r.receivedMonths} received months)`,
      figure: `${fmt(rate)} rows/s`,
      detail: `${fmt(r.stateChanges)} of them state changes; ${r.sinkSeconds.toFixed(1)} s from start to committed; ${fmt(r.rowsStored)} rows stored (${exact ? 'each record once' : 'NOT each record once'}); ${fmt(r.rawParts)} raw-table parts, ${fmt(r.allParts)} in all, before merges`,
      met: exact && rate >= 100_000,
      target: '≥ 100,000 rows/s, each record stored once',
    },
  ];
}
