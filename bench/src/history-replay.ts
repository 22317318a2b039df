import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient, InsertParams } from '@clickhouse/client';
import { generatePopulation, publishSample } from '@hub/dev-tools/sample/index';
import {
  createClickHouse,
  createDatabase,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  quoteIdentifier,
  repoRoot,
  topicNames,
} from '@hub/infra';
import { migrate } from '@hub/processors/history/migrate';
import { HISTORY_COLUMNS } from '@hub/processors/history/rows';
import { HistorySink } from '@hub/processors/history/sink';
import { KafkaDeadLetters } from '@hub/processors/kafka/index';
import { runStateBuilder } from '@hub/processors/state-builder/runtime';
import { EventCodec } from '@hub/schemas';
import { sqlString } from '@hub/state/history/queries';
import { RAW_TABLES, type RawTable } from '@hub/state/history/tables';
import type { Admin, Kafka } from 'kafkajs';
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
  /** Where the sink's time went: inserts and fetches, seen from outside the sink. */
  timeline: SinkTimeline;
  /** Resident memory of this process (the sink runs in it) at its highest during the replay, sampled every 50 ms. */
  peakRssMiB: number;
  /** CPU seconds over the replay: this process (the sink), ClickHouse, and the machine as a whole. */
  cpu: {
    sinkProcess: number;
    clickhouse: number | null;
    machineBusy: number | null;
    machineTotal: number | null;
  };
}

interface CpuSample {
  process: NodeJS.CpuUsage;
  clickhouse: number | null;
  machine: { busy: number; total: number } | null;
}

/** Linux /proc readings, in seconds; null where a file is missing (another OS, or ClickHouse elsewhere). */
function cpuSample(dataDir: string): CpuSample {
  const ticks = 100; // USER_HZ on Linux
  const read = (file: string): string | null => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  };
  const pidFile =
    read(join(dataDir, 'clickhouse', 'clickhouse.pid')) ??
    read(join(repoRoot, '.data', 'clickhouse', 'clickhouse.pid'));
  const stat = pidFile ? read(`/proc/${pidFile.trim()}/stat`) : null;
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const fields = stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : null;
  const clickhouse = fields ? (Number(fields[11]) + Number(fields[12])) / ticks : null;
  const cpuLine = read('/proc/stat')?.split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number);
  const machine = cpuLine
    ? {
        busy: (cpuLine.reduce((a, b) => a + b, 0) - cpuLine[3]! - (cpuLine[4] ?? 0)) / ticks,
        total: cpuLine.reduce((a, b) => a + b, 0) / ticks,
      }
    : null;
  return { process: process.cpuUsage(), clickhouse, machine };
}

function cpuSpent(a: CpuSample, b: CpuSample): ReplayRaw['cpu'] {
  const d = process.cpuUsage(a.process);
  return {
    sinkProcess: (d.user + d.system) / 1e6,
    clickhouse: a.clickhouse !== null && b.clickhouse !== null ? b.clickhouse - a.clickhouse : null,
    machineBusy: a.machine && b.machine ? b.machine.busy - a.machine.busy : null,
    machineTotal: a.machine && b.machine ? b.machine.total - a.machine.total : null,
  };
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

    const trace = new SinkTrace();
    const cpuBefore = cpuSample(config.HUB_DATA_DIR);
    const started = performance.now();
    sink = new HistorySink({
      kafka: trace.kafka(kafka),
      clickhouse: trace.clickhouse(clickhouse),
      database: config.CLICKHOUSE_DATABASE,
      codec,
      topics,
      groupId: sinkGroup,
      deadLetters: new KafkaDeadLetters(producer, codec),
      log: () => {},
      ...(process.env.REPLAY_SINK_OPTIONS ? JSON.parse(process.env.REPLAY_SINK_OPTIONS) : {}),
    });
    await sink.start();
    const deadline = started + 900_000;
    let peakRss = 0;
    while ((await groupLag(admin, sinkGroup, historyInputs)) > 0) {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (performance.now() > deadline) throw new Error('the sink did not finish the replay in 15 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    const ended = performance.now();
    const cpuAfter = cpuSample(config.HUB_DATA_DIR);
    const sinkSeconds = (ended - started) / 1000;
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
      timeline: trace.summary(started, ended),
      peakRssMiB: Math.round(peakRss / 2 ** 20),
      cpu: cpuSpent(cpuBefore, cpuAfter),
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
      detail: `${fmt(r.stateChanges)} of them state changes; ${r.sinkSeconds.toFixed(1)} s from start to committed; ${fmt(r.rowsStored)} rows stored (${exact ? 'each record once' : 'NOT each record once'}); ${fmt(r.rawParts)} raw-table parts, ${fmt(r.allParts)} in all, before merges; ${fmt(r.timeline.inserts)} inserts, ${r.timeline.insertSeconds.toFixed(1)} s with one in flight; CPU ${r.cpu.sinkProcess.toFixed(1)} s sink, ${r.cpu.clickhouse?.toFixed(1) ?? '?'} s ClickHouse, ${r.cpu.machineBusy?.toFixed(1) ?? '?'} of ${r.cpu.machineTotal?.toFixed(1) ?? '?'} s machine busy; peak RSS ${fmt(r.peakRssMiB)} MiB`,
      met: exact && rate >= 100_000,
      target: '≥ 100,000 rows/s, each record stored once',
    },
  ];
}

interface InsertSpan {
  table: string;
  start: number;
  end: number;
  /** Rows and distinct received months of the insert; counted only when tracing (it reads the body). */
  rows: number;
  months: number;
}

/**
 * Where the replay's time goes, measured from outside the sink: each ClickHouse insert's span
 * (through a wrapped client) and each Kafka fetch's (kafkajs instrumentation events of the
 * consumers made from a wrapped Kafka). With `REPLAY_TRACE=1` it also reads every insert's body to
 * count its rows and received months (a part per month, before the views' parts) and prints each
 * span; that costs CPU in this process, which also runs the sink. `REPLAY_DUMP=<dir>` (with the
 * trace) also writes each insert's columns and body there, to replay against ClickHouse alone.
 * `REPLAY_SINK_OPTIONS='<json>'` passes options to the sink (fetch sizes, batch rows, insert
 * concurrency) to compare settings run against run.
 */
class SinkTrace {
  readonly inserts: InsertSpan[] = [];
  readonly fetches: { start: number; end: number; batches: number }[] = [];
  readonly detailed = process.env.REPLAY_TRACE === '1';

  clickhouse(client: ClickHouseClient): ClickHouseClient {
    const trace = this;
    return new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'insert') return Reflect.get(target, prop, receiver);
        return async (params: InsertParams<Readable>) => {
          const start = performance.now();
          let rows = 0;
          let months = 0;
          let values: InsertParams<Readable>['values'] = params.values;
          if (trace.detailed && values instanceof Readable) {
            const chunks: Buffer[] = [];
            for await (const chunk of values) chunks.push(chunk as Buffer);
            const body = Buffer.concat(chunks);
            const table = String(params.table).split('.').pop() as RawTable;
            const at = HISTORY_COLUMNS[table]?.indexOf('received_date') ?? -1;
            const seen = new Set<string>();
            for (const line of body.toString('utf8').split('\n')) {
              if (line === '') continue;
              rows++;
              if (at >= 0) seen.add(line.split('\t')[at]!.slice(0, 7));
            }
            months = seen.size;
            if (process.env.REPLAY_DUMP) {
              const file = `${process.env.REPLAY_DUMP}/${String(trace.inserts.length).padStart(3, '0')}-${table}.tsv`;
              writeFileSync(file, `${(params.columns as string[]).join(',')}\n`);
              appendFileSync(file, body);
            }
            values = Readable.from([body], { objectMode: false });
          }
          try {
            return await target.insert({ ...params, values });
          } finally {
            trace.inserts.push({ table: String(params.table), start, end: performance.now(), rows, months });
          }
        };
      },
    });
  }

  kafka(kafka: Kafka): Kafka {
    const trace = this;
    return new Proxy(kafka, {
      get(target, prop, receiver) {
        if (prop !== 'consumer') return Reflect.get(target, prop, receiver);
        return (config: Parameters<Kafka['consumer']>[0]) => {
          const consumer = target.consumer(config);
          let fetchStart = 0;
          consumer.on(consumer.events.FETCH_START, () => {
            fetchStart = performance.now();
          });
          consumer.on(consumer.events.FETCH, (e) => {
            trace.fetches.push({
              start: fetchStart,
              end: performance.now(),
              batches: e.payload.numberOfBatches,
            });
          });
          return consumer;
        };
      },
    });
  }

  /** Seconds covered by at least one of the spans (concurrent inserts counted once). */
  static busy(spans: readonly { start: number; end: number }[], from: number, to: number): number {
    const sorted = spans.filter((s) => s.end > from && s.start < to).sort((a, b) => a.start - b.start);
    let total = 0;
    let end = from;
    for (const s of sorted) {
      const start = Math.max(s.start, end);
      if (s.end > start) {
        total += Math.min(s.end, to) - start;
        end = s.end;
      }
    }
    return total / 1000;
  }

  summary(from: number, to: number): SinkTimeline {
    const inFlight = this.inserts.filter((s) => s.start < to);
    const out: SinkTimeline = {
      inserts: inFlight.length,
      insertSeconds: SinkTrace.busy(inFlight, from, to),
      insertSecondsSummed: inFlight.reduce((sum, s) => sum + (s.end - s.start), 0) / 1000,
      fetches: this.fetches.length,
      fetchSeconds: SinkTrace.busy(this.fetches, from, to),
      firstInsertAfterSeconds:
        inFlight.length > 0 ? (Math.min(...inFlight.map((s) => s.start)) - from) / 1000 : null,
      lastInsertEndSeconds:
        inFlight.length > 0 ? (Math.max(...inFlight.map((s) => s.end)) - from) / 1000 : null,
    };
    if (this.detailed) {
      console.error(
        `replay trace: sink ran ${from.toFixed(0)}–${to.toFixed(0)} ms after this process started`,
      );
      out.rawPartsByInserts = inFlight.reduce((sum, s) => sum + s.months, 0);
      for (const s of [...this.inserts].sort((a, b) => a.start - b.start)) {
        console.error(
          `replay trace: insert ${((s.start - from) / 1000).toFixed(3)}–${((s.end - from) / 1000).toFixed(3)} s ${s.table} ${s.rows} rows ${s.months} months`,
        );
      }
      for (const f of this.fetches) {
        console.error(
          `replay trace: fetch ${((f.start - from) / 1000).toFixed(3)}–${((f.end - from) / 1000).toFixed(3)} s ${f.batches} batches`,
        );
      }
    }
    return out;
  }
}

export interface SinkTimeline {
  inserts: number;
  /** Wall seconds with at least one insert in flight. */
  insertSeconds: number;
  /** Seconds of every insert added up (more than insertSeconds when tables insert concurrently). */
  insertSecondsSummed: number;
  fetches: number;
  fetchSeconds: number;
  firstInsertAfterSeconds: number | null;
  lastInsertEndSeconds: number | null;
  /** Raw-table parts the inserts made (one per insert and received month), when traced. */
  rawPartsByInserts?: number;
}
