import { generatePopulation, publishSample } from '@hub/dev-tools/sample/index';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  topicNames,
} from '@hub/infra';
import { migrate } from '@hub/processors/history/migrate';
import { jsonLog } from '@hub/processors/kafka/logger';
import { checksumState, dropState } from '@hub/processors/rebuild/projection';
import { replayIntoRedis } from '@hub/processors/rebuild/replay';
import type { Admin } from 'kafkajs';
import { type ConsumerCeiling, consumerPerformance } from './ceiling-kafka.ts';
import { cpuMicros, perUnit } from './cpu.ts';
import {
  benchConfig,
  type Child,
  childEnv,
  createTopics,
  dropBenchData,
  groupLag,
  startChild,
} from './env.ts';
import { type MemoryFigures, measureSampleMemory } from './memory.ts';
import type { Row } from './table.ts';

export interface IngestBenchOptions {
  numbers: number;
  /** Also time a full Redis rebuild from the same topics. */
  rebuild: boolean;
  /** Also measure Redis bytes per number of the built state. */
  memory: boolean;
}

export interface IngestRaw {
  events: number;
  numbers: number;
  publishSeconds: number;
  ceiling: ConsumerCeiling;
  stateBuilderSeconds: number;
  historySinkSeconds: number;
  historyRows: number;
  endToEndSeconds: number;
  /** CPU time (user + system, all threads) of each process over its timed window. */
  stateBuilderCpuSeconds: number;
  historySinkCpuSeconds: number;
  rebuild?: RebuildRaw;
  rebuildThreads?: RebuildRaw;
  memory?: MemoryFigures;
}

/**
 * Ingest end to end on the synthetic national sample: the sample is published first, Kafka's own
 * ConsumerPerformance reads the same topics (the ceiling), then the real state builder and history
 * sink processes consume them side by side (StateChange records included, as in production) and
 * are timed from the moment each has joined its group until its group has committed everything.
 * Then, optionally, the Redis state is measured and rebuilt from the topics.
 */
export async function benchIngest(o: IngestBenchOptions): Promise<{ rows: Row[]; raw: IngestRaw }> {
  const config = benchConfig('ingest');
  await createTopics(config);
  const topics = topicNames(config.TOPIC_PREFIX);
  const inputs = [topics.statusUpdates, topics.ninLinkages, topics.bvnLinkages, topics.delink];
  const historyInputs = [...inputs, topics.verifications, topics.stateChanges, topics.audit];
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis(config);
  const children: Child[] = [];
  try {
    const population = generatePopulation({ numbers: o.numbers, seed: 42, tokenSecret: config.TOKEN_SECRET });
    const producer = createProducer(kafka);
    await producer.connect();
    const published = await publishSample(population, {
      producer,
      registry: createSchemaRegistry(config),
      topics,
      batchSize: 5000,
    });
    await producer.disconnect();
    const events = published.total;

    const ceiling = await consumerPerformance(
      config,
      await Promise.all(inputs.map(async (topic) => ({ topic, messages: await topicSize(admin, topic) }))),
    );

    // Migrations up front, so the sink process only connects and joins like the builder.
    await createDatabase(config);
    const clickhouse = createClickHouse(config);
    await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
    await clickhouse.close();

    const builderGroup = `${config.TOPIC_PREFIX}state-builder`;
    const sinkGroup = `${config.TOPIC_PREFIX}history-sink`;
    const env = childEnv(config, { LOG_LEVEL: 'info', METRICS_PORT: '0' });
    let builderReady = 0;
    let sinkReady = 0;
    // CPU time of each process (all threads) from its ready line until its group has caught up.
    let builderCpu = 0;
    let sinkCpu = 0;
    const [builder, sink] = await Promise.all([
      startChild('processors/src/main-state-builder.ts', env, (l) =>
        l.includes('state builder running'),
      ).then((c) => {
        builderReady = performance.now();
        builderCpu = cpuMicros(c.process.pid!);
        return c;
      }),
      startChild('processors/src/main-history-sink.ts', env, (l) => l.includes('history sink running')).then(
        (c) => {
          sinkReady = performance.now();
          sinkCpu = cpuMicros(c.process.pid!);
          return c;
        },
      ),
    ]);
    children.push(builder, sink);
    console.error(
      `bench: ingest processes: state builder ${builder.process.pid}, history sink ${sink.process.pid}`,
    );
    let builderDone = 0;
    let sinkDone = 0;
    const deadline = performance.now() + 900_000;
    while (builderDone === 0 || sinkDone === 0) {
      if (performance.now() > deadline) throw new Error('ingest did not catch up in 15 minutes');
      await new Promise((r) => setTimeout(r, 50));
      if (builderDone === 0 && (await groupLag(admin, builderGroup, inputs)) === 0) {
        builderDone = performance.now();
        builderCpu = cpuMicros(builder.process.pid!) - builderCpu;
      }
      // The sink also records the builder's StateChange records: done once the builder is.
      if (builderDone !== 0 && sinkDone === 0 && (await groupLag(admin, sinkGroup, historyInputs)) === 0) {
        sinkDone = performance.now();
        sinkCpu = cpuMicros(sink.process.pid!) - sinkCpu;
      }
    }
    await Promise.all(children.splice(0).map((c) => c.stop()));
    let historyRows = 0;
    for (const t of historyInputs) historyRows += await topicSize(admin, t);

    const raw: IngestRaw = {
      events,
      numbers: o.numbers,
      publishSeconds: published.elapsedMs / 1000,
      ceiling,
      stateBuilderSeconds: (builderDone - builderReady) / 1000,
      historySinkSeconds: (sinkDone - sinkReady) / 1000,
      historyRows,
      endToEndSeconds: (Math.max(builderDone, sinkDone) - Math.min(builderReady, sinkReady)) / 1000,
      stateBuilderCpuSeconds: builderCpu / 1e6,
      historySinkCpuSeconds: sinkCpu / 1e6,
    };

    if (o.memory) raw.memory = await measureSampleMemory(redis, config.REDIS_KEY_PREFIX);

    if (o.rebuild) {
      // This thread alone, then members of the group on worker threads (BENCH_REBUILD_THREADS,
      // default 2): each from a dropped projection, each checked against the live build.
      raw.rebuild = await timeRebuild(config, redis, 1);
      raw.rebuildThreads = await timeRebuild(config, redis, Number(process.env.BENCH_REBUILD_THREADS ?? 2));
    }
    return { rows: ingestRows(raw), raw };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await admin.disconnect();
    // A failed cleanup must not hide why the benchmark failed.
    await dropBenchData(config, redis).catch((err: Error) =>
      console.error(`bench: cleaning up ${config.CLICKHOUSE_DATABASE} failed: ${err.message}`),
    );
    await redis.quit();
  }
}

interface RebuildRaw {
  records: number;
  seconds: number;
  /** From the start until every member had joined its group and read the erasures. */
  readySeconds: number;
  cpuSeconds: number;
  identical: boolean;
  threads: number;
}

async function timeRebuild(
  config: Config,
  redis: ReturnType<typeof createRedis>,
  threads: number,
): Promise<RebuildRaw> {
  const before = await checksumState(redis, config.REDIS_KEY_PREFIX);
  await dropState(redis, config.REDIS_KEY_PREFIX);
  const started = performance.now();
  let ready = started;
  // The replay runs in this process: its CPU, all threads, over the replay.
  const cpuBefore = process.cpuUsage();
  const progress = await replayIntoRedis(config, {
    groupId: `${config.TOPIC_PREFIX}rebuild-${threads}`,
    log: jsonLog('rebuild', 'error'),
    threads,
    pollMs: 50,
    onReady: () => {
      ready = performance.now();
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const after = await checksumState(redis, config.REDIS_KEY_PREFIX);
  return {
    records: progress.total,
    seconds,
    readySeconds: (ready - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    identical: before.records === after.records && before.digest === after.digest,
    threads,
  };
}

async function topicSize(admin: Admin, topic: string): Promise<number> {
  let n = 0;
  for (const p of await admin.fetchTopicOffsets(topic)) n += Number(p.high) - Number(p.low);
  return n;
}

const rate = (n: number, seconds: number) => Math.round(n / seconds);
const fmt = (n: number) => n.toLocaleString('en-US');

function ingestRows(r: IngestRaw): Row[] {
  const ceiling = r.ceiling.messagesPerSecond;
  const e2e = rate(r.events, r.endToEndSeconds);
  const builder = rate(r.events, r.stateBuilderSeconds);
  const sink = rate(r.historyRows, r.historySinkSeconds);
  const cpuBuilder = perUnit(r.stateBuilderCpuSeconds * 1e6, r.events);
  const cpuSinkPerEvent = perUnit(r.historySinkCpuSeconds * 1e6, r.events);
  const cpuBoth = perUnit((r.stateBuilderCpuSeconds + r.historySinkCpuSeconds) * 1e6, r.events);
  const rows: Row[] = [
    {
      benchmark: 'ceiling: Kafka ConsumerPerformance, 4 input topics',
      figure: `${fmt(ceiling)} records/s`,
      detail: `${fmt(r.ceiling.messages)} records in ${r.ceiling.fetchSeconds.toFixed(2)} s of fetching`,
    },
    {
      benchmark: `ingest end to end (${fmt(r.numbers)} numbers, ${fmt(r.events)} events)`,
      figure: `${fmt(e2e)} events/s`,
      detail: `Kafka → state builder → Redis and → history sink → ClickHouse, both processes side by side, ${r.endToEndSeconds.toFixed(1)} s`,
      ratio: e2e / ceiling,
      target: '≥ 50,000/s and ≥ 0.50 of ceiling',
      met: e2e >= 50_000 && e2e / ceiling >= 0.5,
    },
    {
      benchmark: 'ingest: Node CPU per event, state builder + history sink',
      figure: `${cpuBoth} µs`,
      detail: `${cpuBuilder} µs state builder + ${cpuSinkPerEvent} µs history sink per input event`,
      target: '≤ 15 µs',
      met: cpuBoth <= 15,
    },
    {
      benchmark: '  state builder (Kafka → Redis)',
      figure: `${fmt(builder)} events/s`,
      detail: `${r.stateBuilderSeconds.toFixed(1)} s, StateChange records published; CPU ${cpuBuilder} µs per event`,
      ratio: builder / ceiling,
    },
    {
      benchmark: '  history sink (Kafka → ClickHouse)',
      figure: `${fmt(sink)} rows/s`,
      detail: `${fmt(r.historyRows)} rows (events + state changes) in ${r.historySinkSeconds.toFixed(1)} s; CPU ${perUnit(r.historySinkCpuSeconds * 1e6, r.historyRows)} µs per row`,
      ratio: sink / ceiling,
    },
  ];
  for (const rb of [r.rebuild, r.rebuildThreads]) {
    if (!rb) continue;
    const events = rate(rb.records, rb.seconds);
    const consuming = rate(rb.records, rb.seconds - rb.readySeconds);
    const first = rb === r.rebuild;
    rows.push({
      benchmark: first
        ? 'rebuild: Redis state from Kafka'
        : `  rebuild, ${rb.threads} members on worker threads`,
      figure: `${fmt(events)} events/s`,
      detail: `${fmt(rb.records)} events in ${rb.seconds.toFixed(1)} s (members consuming after ${rb.readySeconds.toFixed(1)} s, ${fmt(consuming)} events/s from then), CPU ${perUnit(rb.cpuSeconds * 1e6, rb.records)} µs per event, ${rb.identical ? 'byte-identical' : 'NOT identical'} to the live build`,
      ratio: events / ceiling,
      ...(first ? { target: '≥ 100,000/s', met: events >= 100_000 && rb.identical } : {}),
    });
  }
  if (r.memory) {
    const m = r.memory;
    rows.push(
      {
        benchmark: 'memory: Redis bytes per number, sample as drawn',
        figure: `${m.sample.bytesPerNumber} B`,
        detail: `${fmt(m.sample.numbers)} numbers in ${fmt(m.sample.buckets)} buckets (${(m.sample.numbers / m.sample.buckets).toFixed(1)} per 100-number bucket)`,
      },
      {
        benchmark: 'memory: same records at national density',
        figure: `${m.national.bytesPerNumber} B`,
        detail: `50 of every 100 numbers known (220 M lines / ~450 M allocated), ${m.national.listpackBuckets}/${m.national.buckets} buckets listpack`,
        target: '≤ 80 B',
        met: m.national.bytesPerNumber <= 80,
      },
    );
  }
  return rows;
}
