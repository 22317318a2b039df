import type { ClickHouseClient } from '@clickhouse/client';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createProducer,
  createRedis,
  createSchemaRegistry,
  partitionFor,
  quoteIdentifier,
  repoRoot,
  type TopicNames,
  topicNames,
} from '@hub/infra';
import { DataSubjectPublisher } from '@hub/ingest';
import { DataSubjectCodec, EventCodec, type EventKind, type EventTypes } from '@hub/schemas';
import { readStored } from '@hub/state/read';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../infra/local/process.ts';
import { migrate } from '../../processors/src/history/migrate.ts';
import { HistorySink } from '../../processors/src/history/sink.ts';
import { KafkaDeadLetters } from '../../processors/src/kafka/index.ts';
import { checksumState } from '../../processors/src/rebuild/projection.ts';
import { type RunningStateBuilder, runStateBuilder } from '../../processors/src/state-builder/runtime.ts';
import { createTestTopics, testConfig, uniqueId } from '../support/stack.ts';

/**
 * A subscriber erasure end to end over the real services: the state builder and the history sink
 * apply it live; a full rebuild of Redis from Kafka and a replay of the sink into an empty
 * database both honour it; a linkage made after the erasure (a new owner) survives all of it, and
 * numbers that were not erased, one of them in the erased number's partition, are untouched.
 */

const PARTITIONS = 3;
const quiet = () => {};
const T0 = Date.UTC(2025, 5, 2, 9, 0, 0);

let config: Config;
let env: Record<string, string>;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let codec: EventCodec;
let dsCodec: DataSubjectCodec;
let clickhouse: ClickHouseClient;
let topics: TopicNames;
let db: string;
let redis: Redis;
const running: { builder?: RunningStateBuilder; sinks: HistorySink[] } = { sinks: [] };

/** Three numbers: the erased one, one in the same partition, one elsewhere. */
function pickNumbers(): { erased: string; samePartition: string; other: string } {
  const base = 2348031000000;
  const erased = String(base + Math.floor(Math.random() * 100000));
  const p = partitionFor(erased, PARTITIONS);
  let samePartition = '';
  let other = '';
  for (let i = 1; (!samePartition || !other) && i < 1000; i++) {
    const n = String(Number(erased) + i);
    if (partitionFor(n, PARTITIONS) === p) samePartition ||= n;
    else other ||= n;
  }
  return { erased, samePartition, other };
}

const numbers = pickNumbers();
const all = [numbers.erased, numbers.samePartition, numbers.other];
const token = (msisdn: string, kind: string, n = 1) =>
  `${kind === 'nin' ? 'a' : kind === 'bvn' ? 'b' : 'c'}${n}${msisdn.slice(-13).padStart(14, '0')}`.slice(
    0,
    16,
  );

async function produce<K extends EventKind>(kind: K, topic: string, events: EventTypes[K][]): Promise<void> {
  await producer.send({
    topic,
    messages: events.map((e) => ({ key: (e as { msisdn: string }).msisdn, value: codec.encode(kind, e) })),
  });
}

const base = (id: string, at: number) => ({
  eventId: id,
  source: 'GENERATOR',
  occurredAt: at,
  receivedAt: at,
});

async function produceLife(msisdn: string): Promise<void> {
  await produce('status-update', topics.statusUpdates, [
    {
      ...base(`st-${msisdn}`, T0),
      operator: 'MTN',
      msisdn,
      status: 'NORMAL',
      occurrenceDate: '2025-06-02',
      reassignmentDate: null,
      remarks: null,
      batchId: null,
    },
  ]);
  await produce('nin-linkage', topics.ninLinkages, [
    {
      ...base(`nin-${msisdn}`, T0 + 1000),
      msisdn,
      action: 'LINK',
      ninToken: token(msisdn, 'nin'),
      ninMasked: '*******1111',
      linkDate: '2024-01-10',
    },
  ]);
  await produce('bvn-linkage', topics.bvnLinkages, [
    {
      ...base(`bvn-${msisdn}`, T0 + 2000),
      msisdn,
      action: 'LINK',
      bvnToken: token(msisdn, 'bvn'),
      bvnMasked: '*******2222',
      holderNinToken: token(msisdn, 'nin'),
      nubanToken: token(msisdn, 'nuban'),
      nubanMasked: '******3333',
      bankCode: '058',
      linkDate: '2024-02-11',
    },
  ]);
  await produce('verification', topics.verifications, [
    {
      ...base(`ver-${msisdn}`, T0 + 3000),
      requestId: `vr-${msisdn}`,
      organisation: 'bank-a',
      msisdn,
      channel: 'SINGLE',
      verificationStatus: 'VERIFIED',
      telecomStatus: 'NORMAL',
      lifecycleStatus: 'ACTIVE',
    },
  ]);
}

async function scalar(query: string, database = db): Promise<number> {
  const result = await clickhouse.query({ query: query.replaceAll('{db}', database), format: 'JSONEachRow' });
  const rows = await result.json<Record<string, string | number>>();
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function linkages(msisdn: string): Promise<{ nin: string[]; bvn: string[]; dropped: number }> {
  const [s] = await readStored(redis, config.REDIS_KEY_PREFIX, [msisdn]);
  const r = s?.record;
  return {
    nin: r?.nin.map((l) => l.token) ?? [],
    bvn: r?.bvn.map((l) => l.token) ?? [],
    dropped: (r?.droppedLinkages.nin ?? 0) + (r?.droppedLinkages.bvn ?? 0),
  };
}

/** Every row ClickHouse holds about one number in the tables an erasure covers. */
async function historyOf(msisdn: string, database = db) {
  const m = `'${msisdn}'`;
  return {
    ninEvents: await scalar(`SELECT count() FROM {db}.nin_linkage_events_v1 WHERE msisdn = ${m}`, database),
    bvnEvents: await scalar(`SELECT count() FROM {db}.bvn_linkage_events_v1 WHERE msisdn = ${m}`, database),
    ninIndex: await scalar(`SELECT count() FROM {db}.nin_links_by_token_v1 WHERE msisdn = ${m}`, database),
    bvnIndex: await scalar(`SELECT count() FROM {db}.bvn_links_by_token_v1 WHERE msisdn = ${m}`, database),
    nubanIndex: await scalar(
      `SELECT count() FROM {db}.nuban_links_by_token_v1 WHERE msisdn = ${m}`,
      database,
    ),
    verifications: await scalar(`SELECT count() FROM {db}.verifications_v2 WHERE msisdn = ${m}`, database),
    statusEvents: await scalar(`SELECT count() FROM {db}.status_events_v1 WHERE msisdn = ${m}`, database),
    linkedStateChanges: await scalar(
      `SELECT count() FROM {db}.state_changes_v1 WHERE msisdn = ${m} AND (active_nin_linkages > 0 OR active_bvn_linkages > 0)`,
      database,
    ),
  };
}

async function startSink(database: string, groupId: string): Promise<HistorySink> {
  const sink = new HistorySink({
    kafka,
    clickhouse,
    database,
    codec,
    topics,
    groupId,
    deadLetters: new KafkaDeadLetters(producer, codec),
    erasures: { codec: dsCodec },
    log: quiet,
    fetchMinBytes: 1,
    maxWaitMs: 100,
  });
  running.sinks.push(sink);
  await sink.start();
  return sink;
}

beforeAll(async () => {
  config = testConfig('erasure', { KAFKA_PARTITIONS: String(PARTITIONS) });
  env = {
    TOPIC_PREFIX: config.TOPIC_PREFIX,
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    KAFKA_PARTITIONS: String(PARTITIONS),
    LOG_LEVEL: 'error',
  };
  topics = topicNames(config.TOPIC_PREFIX);
  await createDatabase(config);
  clickhouse = createClickHouse(config);
  await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  db = quoteIdentifier(config.CLICKHOUSE_DATABASE);
  kafka = await createTestTopics(config);
  admin = kafka.admin();
  await admin.connect();
  producer = createProducer(kafka);
  await producer.connect();
  redis = createRedis(config);
  const registry = createSchemaRegistry(config);
  codec = new EventCodec(registry);
  await codec.register('status-update', topics.statusUpdates);
  await codec.register('nin-linkage', topics.ninLinkages);
  await codec.register('bvn-linkage', topics.bvnLinkages);
  await codec.register('delink', topics.delink);
  await codec.register('verification', topics.verifications);
  await codec.register('state-change', topics.stateChanges);
  dsCodec = new DataSubjectCodec(registry);
  await dsCodec.register(topics.dataSubject);
}, 60_000);

afterAll(async () => {
  for (const s of running.sinks) await s.stop().catch(() => undefined);
  await running.builder?.stop().catch(() => undefined);
  for (const database of [config.CLICKHOUSE_DATABASE, `${config.CLICKHOUSE_DATABASE}_replay`]) {
    await clickhouse
      .command({ query: `DROP DATABASE IF EXISTS ${quoteIdentifier(database)}` })
      .catch(() => {});
  }
  await clickhouse?.close();
  await producer?.disconnect();
  await admin?.disconnect();
  if (redis) {
    const keys = await redis.keys(`${config.REDIS_KEY_PREFIX}*`);
    if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  }
});

describe('subscriber erasure', () => {
  it('drops the linkages and history live, and keeps a linkage made after it', async () => {
    running.builder = await runStateBuilder(config, {
      groupId: `${config.TOPIC_PREFIX}state-builder`,
      publishStateChanges: true,
      log: quiet,
    });
    await startSink(config.CLICKHOUSE_DATABASE, `${config.TOPIC_PREFIX}history-sink`);
    for (const n of all) await produceLife(n);
    await eventually('linkages in Redis and ClickHouse', async () => {
      for (const n of all) {
        const l = await linkages(n);
        const h = await historyOf(n);
        if (l.nin.length !== 1 || l.bvn.length !== 1) return false;
        if (h.ninIndex !== 1 || h.nubanIndex !== 1 || h.verifications !== 1 || h.linkedStateChanges < 1)
          return false;
      }
      return true;
    });

    const publisher = new DataSubjectPublisher({ producer, codec: dsCodec, topics });
    await publisher.eraseSubscriber(numbers.erased, `dsr-${uniqueId()}`, 'user:test-admin');
    await eventually('the erasure applied in Redis and ClickHouse', async () => {
      const l = await linkages(numbers.erased);
      const h = await historyOf(numbers.erased);
      return l.nin.length === 0 && l.bvn.length === 0 && h.ninEvents === 0 && h.nubanIndex === 0;
    });
    // The number's next owner links a NIN after the erasure: that fact is not erased.
    await produce('nin-linkage', topics.ninLinkages, [
      {
        ...base(`nin2-${numbers.erased}`, T0 + 86_400_000),
        msisdn: numbers.erased,
        action: 'LINK',
        ninToken: token(numbers.erased, 'nin', 2),
        ninMasked: '*******9999',
        linkDate: '2025-06-03',
      },
    ]);

    await eventually("the new owner's linkage", async () => {
      const l = await linkages(numbers.erased);
      const h = await historyOf(numbers.erased);
      return (
        l.nin.join() === token(numbers.erased, 'nin', 2) &&
        l.bvn.length === 0 &&
        h.ninEvents === 1 &&
        h.bvnEvents === 0 &&
        h.ninIndex === 1 &&
        h.bvnIndex === 0 &&
        h.nubanIndex === 0 &&
        h.verifications === 0
      );
    });
    const h = await historyOf(numbers.erased);
    // Status events are the operator's facts about the line and stay; no state change from before
    // the erasure (the ones that showed the old linkages) is left.
    expect(h.statusEvents).toBe(1);
    expect(
      await scalar(
        `SELECT count() FROM {db}.state_changes_v1 WHERE msisdn = '${numbers.erased}' AND active_bvn_linkages > 0`,
      ),
    ).toBe(0);
    for (const n of [numbers.samePartition, numbers.other]) {
      expect(await linkages(n)).toEqual({ nin: [token(n, 'nin')], bvn: [token(n, 'bvn')], dropped: 0 });
      const kept = await historyOf(n);
      expect(kept).toMatchObject({
        ninEvents: 1,
        bvnEvents: 1,
        ninIndex: 1,
        nubanIndex: 1,
        verifications: 1,
      });
    }
  }, 180_000);

  it('survives a full rebuild of Redis from Kafka, byte for byte', async () => {
    await running.builder!.stop();
    const before = await checksumState(redis, config.REDIS_KEY_PREFIX);
    expect(before.records).toBe(3);
    const rebuild = await run(
      process.execPath,
      ['--import', 'tsx', 'processors/src/rebuild/cli.ts', 'redis'],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
      },
    );
    expect(rebuild.code, rebuild.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(rebuild.stdout) as { equal: boolean; after: unknown };
    expect(report.equal).toBe(true);
    expect(report.after).toEqual(before);

    // A restarted builder (new process, same group) reads the erasure first and changes nothing.
    running.builder = await runStateBuilder(config, {
      groupId: `${config.TOPIC_PREFIX}state-builder`,
      publishStateChanges: true,
      log: quiet,
    });
    expect(await linkages(numbers.erased)).toEqual({
      nin: [token(numbers.erased, 'nin', 2)],
      bvn: [],
      dropped: 0,
    });
    expect(await checksumState(redis, config.REDIS_KEY_PREFIX)).toEqual(before);
  }, 180_000);

  it('survives a replay of the history sink into an empty database', async () => {
    for (const s of running.sinks) await s.stop();
    running.sinks = [];
    const replayDb = `${config.CLICKHOUSE_DATABASE}_replay`;
    await clickhouse.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(replayDb)}` });
    await migrate(clickhouse, replayDb);
    await startSink(replayDb, `${config.TOPIC_PREFIX}history-replay-${uniqueId()}`);
    const original = await scalar('SELECT count() FROM {db}.status_events_v1');
    await eventually('the replay to catch up', async () => {
      const statuses = await scalar(`SELECT count() FROM {db}.status_events_v1`, quoteIdentifier(replayDb));
      const kept = await historyOf(numbers.other, quoteIdentifier(replayDb));
      const erased = await historyOf(numbers.erased, quoteIdentifier(replayDb));
      return statuses === original && kept.verifications === 1 && erased.ninEvents === 1;
    });
    const erased = await historyOf(numbers.erased, quoteIdentifier(replayDb));
    expect(erased).toMatchObject({
      ninEvents: 1,
      bvnEvents: 0,
      ninIndex: 1,
      bvnIndex: 0,
      nubanIndex: 0,
      verifications: 0,
      statusEvents: 1,
    });
    expect(
      await scalar(
        `SELECT count() FROM {db}.state_changes_v1 WHERE msisdn = '${numbers.erased}' AND active_bvn_linkages > 0`,
        quoteIdentifier(replayDb),
      ),
    ).toBe(0);
    // Nothing erased was ever inserted: the rollups, which count every inserted row, saw no
    // verification of the erased number either.
    expect(
      await scalar(
        `SELECT uniqMerge(events) FROM {db}.verifications_daily_v1 WHERE organisation = 'bank-a'`,
        quoteIdentifier(replayDb),
      ),
    ).toBe(2);
  }, 180_000);
});
