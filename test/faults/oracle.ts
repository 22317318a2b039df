import {
  type ExpectedState,
  eventsOf,
  expectedState,
  generatePopulation,
  type Population,
  type SampleEvent,
  type SampleEventKind,
  sampleTopics,
  sendSampleEvents,
} from '@hub/dev-tools/sample/index';
import { createProducer, createSchemaRegistry, type TopicNames } from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import { RAW_TABLES } from '@hub/state/history/tables';
import { readState, type StateReading } from '@hub/state/read';
import type { Admin, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { registerInputs } from '../../processors/src/state-builder/scenarios.ts';
import { type FaultEnv, highWater, scalar, sleep } from './env.ts';

export const END_DATE = '2025-06-30';

export interface Sample {
  population: Population;
  expected: ExpectedState[];
  events: SampleEvent[];
}

export function makeSample(numbers: number, seed: number, tokenSecret: string): Sample {
  const population = generatePopulation({ numbers, seed, tokenSecret, endDate: END_DATE });
  const all = [...eventsOf(population)];
  // As publishSample does by default: delinks after every other event.
  const events = [...all.filter((e) => e.kind !== 'delink'), ...all.filter((e) => e.kind === 'delink')];
  return { population, expected: expectedState(population), events };
}

export interface SampleProducer {
  producer: Producer;
  codec: EventCodec;
  send(events: readonly SampleEvent[]): Promise<void>;
  close(): Promise<void>;
}

export async function sampleProducer(env: FaultEnv): Promise<SampleProducer> {
  const producer = createProducer(env.kafka);
  await producer.connect();
  const codec = new EventCodec(createSchemaRegistry(env.config));
  await registerInputs(codec, env.topics);
  return {
    producer,
    codec,
    send: (events) => sendSampleEvents(producer, codec, env.topics, events),
    close: () => producer.disconnect(),
  };
}

export interface ScannedMessage {
  partition: number;
  offset: string;
  message: KafkaMessage;
}

/** Reads a whole topic from the beginning up to its current high watermarks. */
export async function scanTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  timeoutMs = 60_000,
): Promise<ScannedMessage[]> {
  const ends = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic)) {
    if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  }
  const out: ScannedMessage[] = [];
  if (ends.size === 0) return out;
  const consumer = kafka.consumer({
    groupId: `faults-scan-${Date.now()}-${Math.random()}`,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`scan of ${topic}: ${out.length} records in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            for (const message of batch.messages) {
              if (end !== undefined && BigInt(message.offset) < end) {
                out.push({ partition: batch.partition, offset: message.offset, message });
              }
            }
            const last = batch.messages.at(-1);
            if (end !== undefined && last && BigInt(last.offset) + 1n >= end) done.add(batch.partition);
            if (done.size === ends.size) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

const INPUT_OF: Record<SampleEventKind, 'status' | 'nin' | 'bvn' | 'delink'> = {
  'status-update': 'status',
  'nin-linkage': 'nin',
  'bvn-linkage': 'bvn',
  delink: 'delink',
};

/** Per number, per input, the highest offset the topics hold: what each record's offsets must say. */
export async function lastOffsets(env: FaultEnv): Promise<Map<string, Record<string, bigint>>> {
  const out = new Map<string, Record<string, bigint>>();
  const topicOf = sampleTopics(env.topics);
  for (const kind of Object.keys(topicOf) as SampleEventKind[]) {
    for (const m of await scanTopic(env.kafka, env.admin, topicOf[kind])) {
      const key = m.message.key?.toString() ?? '';
      const rec = out.get(key) ?? {};
      const o = BigInt(m.offset);
      const input = INPUT_OF[kind];
      if (rec[input] === undefined || o > rec[input]) rec[input] = o;
      out.set(key, rec);
    }
  }
  return out;
}

export interface StateComparison {
  compared: number;
  missing: string[];
  wrong: string[];
  versionMismatch: string[];
  offsetMismatch: string[];
}

const activeTokens = (links: { token: string; clearedDate: string | null }[]) =>
  links
    .filter((l) => l.clearedDate === null)
    .map((l) => l.token)
    .sort();

/** Compares every number's Redis record with the generator's expected final state. */
export async function compareState(
  env: FaultEnv,
  expected: readonly ExpectedState[],
  offsets: Map<string, Record<string, bigint>> | null,
  prefix = env.config.REDIS_KEY_PREFIX,
): Promise<StateComparison> {
  const result: StateComparison = {
    compared: 0,
    missing: [],
    wrong: [],
    versionMismatch: [],
    offsetMismatch: [],
  };
  const known = expected.filter((e) => e.deliveries > 0);
  for (let i = 0; i < known.length; i += 1000) {
    const slice = known.slice(i, i + 1000);
    const readings: StateReading[] = await readState(
      env.redis,
      prefix,
      slice.map((e) => e.msisdn),
    );
    slice.forEach((e, j) => {
      const r = readings[j]!;
      result.compared++;
      if (!r.record || !r.view) {
        result.missing.push(e.msisdn);
        return;
      }
      const v = r.view;
      const got = {
        operator: v.operator,
        telecomStatus: v.telecomStatus,
        statusDate: v.statusDate,
        reassignmentDate: v.reassignmentDate,
        lastSwappedDate: v.lastSwappedDate,
        lastChurnedDate: v.lastChurnedDate,
        lastReassignedDate: v.lastReassignedDate,
        activeNinTokens: activeTokens(v.ninLinkages),
        activeBvnTokens: activeTokens(v.bvnLinkages),
        lifecycleStatus: v.lifecycleStatus,
        isRecycled: v.isRecycled,
        activeNinLinkages: v.activeNinLinkages,
        activeBvnLinkages: v.activeBvnLinkages,
        cleanupStatus: v.cleanupStatus,
        canAssignToNewUser: v.canAssignToNewUser,
        conflicts: v.conflicts,
        openDelink: v.openDelink,
      };
      const want = {
        operator: e.operator,
        telecomStatus: e.telecomStatus,
        statusDate: e.statusDate,
        reassignmentDate: e.reassignmentDate,
        lastSwappedDate: e.lastSwappedDate,
        lastChurnedDate: e.lastChurnedDate,
        lastReassignedDate: e.lastReassignedDate,
        activeNinTokens: e.activeNinTokens,
        activeBvnTokens: e.activeBvnTokens,
        lifecycleStatus: e.lifecycleStatus,
        isRecycled: e.isRecycled,
        activeNinLinkages: e.activeNinLinkages,
        activeBvnLinkages: e.activeBvnLinkages,
        cleanupStatus: e.cleanupStatus,
        canAssignToNewUser: e.canAssignToNewUser,
        conflicts: e.conflicts,
        openDelink: e.openDelink,
      };
      const diff = Object.keys(want).filter(
        (k) => JSON.stringify(got[k as keyof typeof got]) !== JSON.stringify(want[k as keyof typeof want]),
      );
      if (diff.length > 0) {
        result.wrong.push(
          `${e.msisdn} ${diff.map((k) => `${k}: got ${JSON.stringify(got[k as keyof typeof got])} want ${JSON.stringify(want[k as keyof typeof want])}`).join('; ')}`,
        );
      }
      if (r.record.version !== e.deliveries) {
        result.versionMismatch.push(`${e.msisdn} version ${r.record.version}, deliveries ${e.deliveries}`);
      }
      if (offsets) {
        const want = offsets.get(e.msisdn) ?? {};
        for (const input of ['status', 'nin', 'bvn', 'delink'] as const) {
          const have = r.record.offsets[input];
          const expectedOffset = want[input] ?? null;
          if (have !== expectedOffset) {
            result.offsetMismatch.push(`${e.msisdn} ${input} offset ${have} want ${expectedOffset}`);
          }
        }
      }
    });
  }
  return result;
}

export function stateProblems(c: StateComparison): string[] {
  const out: string[] = [];
  const show = (label: string, list: string[]) => {
    if (list.length > 0) out.push(`${list.length} ${label}, e.g. ${list.slice(0, 3).join(' | ')}`);
  };
  show('numbers missing from Redis', c.missing);
  show('numbers with wrong state', c.wrong);
  show('numbers whose version is not the delivery count (lost or double-applied events)', c.versionMismatch);
  show('per-topic offsets differing from the last offset of the number in the topic', c.offsetMismatch);
  return out;
}

export const INPUT_TABLES: [SampleEventKind, keyof TopicNames][] = [
  ['status-update', 'statusUpdates'],
  ['nin-linkage', 'ninLinkages'],
  ['bvn-linkage', 'bvnLinkages'],
  ['delink', 'delink'],
];

/** Waits until each table holds as many rows as its topic holds records (the sink stores each offset once). */
export async function waitForHistory(
  env: FaultEnv,
  pairs: [string, string][],
  timeoutMs: number,
  minus: Record<string, number> = {},
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (const [topic, table] of pairs) {
    const want = (await highWater(env.admin, topic)) - (minus[topic] ?? 0);
    for (;;) {
      const have = await scalar(env.clickhouse, `SELECT count() FROM ${env.db}.${table}`).catch(() => -1);
      if (have >= want) break;
      if (Date.now() > deadline) return `${table}: ${have} of ${want} rows after ${timeoutMs} ms`;
      await sleep(500);
    }
  }
  return null;
}

/**
 * Exactly-once checks of the four input tables: rows = records in the topic, no (partition, offset)
 * twice, distinct event ids = the sample's, and the daily status rollup equals the raw distinct count.
 */
export async function historyProblems(
  env: FaultEnv,
  sample: Sample,
): Promise<{ problems: string[]; facts: string[] }> {
  const problems: string[] = [];
  const facts: string[] = [];
  for (const [kind, topicKey] of INPUT_TABLES) {
    const table = RAW_TABLES[kind];
    const topic = env.topics[topicKey] as string;
    const records = await highWater(env.admin, topic);
    const rows = await scalar(env.clickhouse, `SELECT count() FROM ${env.db}.${table}`);
    const dupOffsets = await scalar(
      env.clickhouse,
      `SELECT count() FROM (SELECT kafka_partition, kafka_offset FROM ${env.db}.${table} GROUP BY kafka_partition, kafka_offset HAVING count() > 1)`,
    );
    const ids = await scalar(env.clickhouse, `SELECT uniqExact(event_id) FROM ${env.db}.${table}`);
    const wantIds = new Set(sample.events.filter((e) => e.kind === kind).map((e) => e.value.eventId)).size;
    facts.push(`${table}: ${rows} rows / ${records} records, ${ids} event ids / ${wantIds} expected`);
    if (rows !== records) problems.push(`${table} holds ${rows} rows for ${records} records in ${topic}`);
    if (dupOffsets > 0)
      problems.push(`${table}: ${dupOffsets} (partition, offset) pairs stored more than once`);
    if (ids !== wantIds) problems.push(`${table}: ${ids} distinct event ids, the sample has ${wantIds}`);
  }
  const rollup = await scalar(
    env.clickhouse,
    `SELECT sum(n) FROM (SELECT uniqMerge(events) AS n FROM ${env.db}.status_events_daily_v1 GROUP BY day, operator, status)`,
  );
  const raw = await scalar(
    env.clickhouse,
    `SELECT sum(n) FROM (SELECT uniqExact(event_id) AS n FROM ${env.db}.status_events_v1 GROUP BY occurred_date, operator, status)`,
  );
  facts.push(`status_events_daily_v1 counts ${rollup} events, raw table ${raw}`);
  if (rollup !== raw)
    problems.push(`status_events_daily_v1 rollup counts ${rollup} events, the raw table ${raw}`);
  return { problems, facts };
}

export { createSchemaRegistry };
