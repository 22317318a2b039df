import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Config,
  createClickHouse,
  createKafka,
  deleteTopicsWithPrefix,
  ensureTopics,
  loadConfig,
  quoteIdentifier,
  repoRoot,
  topicSpecs,
} from '@hub/infra';
import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';

/** A benchmark's own topics, keys, database and data folder on the shared local services. */
export function benchConfig(name: string): Config {
  const id = `${name}_${randomBytes(4).toString('hex')}`;
  return loadConfig({
    ...process.env,
    LOG_LEVEL: 'warn',
    TOPIC_PREFIX: `bench.${id}.`,
    REDIS_KEY_PREFIX: `bench:${id}:`,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    HUB_DATA_DIR: mkdtempSync(join(tmpdir(), `hub-bench-${name}-`)),
  });
}

export async function createTopics(config: Config): Promise<void> {
  const admin = createKafka(config).admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
  } finally {
    await admin.disconnect();
  }
}

/** Removes what a benchmark left on the shared services: its topics, Redis keys and ClickHouse database. */
export async function dropBenchData(config: Config, redis: Redis): Promise<void> {
  const admin = createKafka(config).admin();
  await admin.connect();
  try {
    await deleteTopicsWithPrefix(admin, config.TOPIC_PREFIX);
  } finally {
    await admin.disconnect();
  }
  const pattern = `${config.REDIS_KEY_PREFIX.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  // Dropping waits for the database's running merges: give it longer than a query.
  const clickhouse = createClickHouse(config, { database: 'default', requestTimeoutMs: 300_000 });
  try {
    await clickhouse.command({
      query: `DROP DATABASE IF EXISTS ${quoteIdentifier(config.CLICKHOUSE_DATABASE)}`,
    });
  } finally {
    await clickhouse.close();
  }
}

/** Environment variables that point a child process at the same benchmark config. */
export function childEnv(config: Config, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TOPIC_PREFIX: config.TOPIC_PREFIX,
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    HUB_DATA_DIR: config.HUB_DATA_DIR,
    // Info, as in production: the ready lines are info logs, and the access log is part of the cost.
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Lag of a consumer group over topics: end offsets minus committed offsets, summed. */
export async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  let lag = 0;
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const at = Number(mine.find((p) => p.partition === end.partition)?.offset ?? '-1');
      lag += Number(end.high) - Math.max(at, Number(end.low));
    }
  }
  return lag;
}

export async function waitForLag(
  admin: Admin,
  groupId: string,
  topics: string[],
  timeoutMs = 600_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await groupLag(admin, groupId, topics)) === 0) return;
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not catch up in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Child {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a TypeScript entry point as its own process and waits until `ready` sees its output. */
export async function startChild(
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: (line: string) => boolean,
  timeoutMs = 60_000,
): Promise<Child> {
  // BENCH_CHILD_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the processes under test.
  const flags = process.env.BENCH_CHILD_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', entry], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} not ready in ${timeoutMs} ms:\n${log.slice(-2000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      // Only a tail is kept: the child logs each request at info, and the pipe is read until it exits.
      log = (log + chunk.toString()).slice(-64_000);
      if (log.split('\n').some(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${log.slice(-2000)}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
