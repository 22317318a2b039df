import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createKafka,
  createRedis,
  deleteTopicsWithPrefix,
  ensureTopics,
  loadConfig,
  quoteIdentifier,
  repoRoot,
  type TopicNames,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import type { Role } from '@hub/ingest';
import { generateApiKey, hashPassword, type NewOrganisation, Security } from '@hub/security';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { type RunResult, run } from '../../infra/local/process.ts';
import { migrate } from '../../processors/src/history/migrate.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where the children's logs go: one folder per run. */
export const LOG_DIR = join('/tmp', `hub-faults-${process.pid}`);
mkdirSync(LOG_DIR, { recursive: true });

/**
 * One scenario's slice of the shared local services: its own topic prefix, Redis key prefix and
 * ClickHouse database, so it never reads or writes the hub's own data (nor another scenario's).
 */
export interface FaultEnv {
  name: string;
  config: Config;
  /** Environment for child processes (the shared one plus this slice's prefixes). */
  env: NodeJS.ProcessEnv;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  clickhouse: ClickHouseClient;
  db: string;
  close(options?: { drop?: boolean }): Promise<void>;
}

export async function createFaultEnv(
  run: string,
  name: string,
  extra: Record<string, string> = {},
): Promise<FaultEnv> {
  const id = `${run}_${name}`;
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    KAFKA_PARTITIONS: '3',
    TOPIC_PREFIX: `faults.${id}.`,
    REDIS_KEY_PREFIX: `faults:${id}:`,
    CLICKHOUSE_DATABASE: `faults_${id}`,
    ...extra,
  };
  const config = loadConfig({ ...process.env, ...env });
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
  await createDatabase(config);
  const clickhouse = createClickHouse(config);
  await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  const redis = createRedis(config);
  const db = quoteIdentifier(config.CLICKHOUSE_DATABASE);
  return {
    name,
    config,
    env: { ...process.env, ...env },
    topics: topicNames(config.TOPIC_PREFIX),
    kafka,
    admin,
    redis,
    clickhouse,
    db,
    async close(options = {}) {
      if (options.drop) {
        await deleteTopicsWithPrefix(admin, config.TOPIC_PREFIX).catch(() => undefined);
        await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
        await dropRedisPrefix(redis, config.REDIS_KEY_PREFIX).catch(() => undefined);
      }
      await admin.disconnect().catch(() => undefined);
      await clickhouse.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** Deletes every key under exactly this prefix (SCAN + UNLINK), never anything else. */
export async function dropRedisPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const own = keys.filter((k) => k.startsWith(prefix));
    if (own.length > 0) n += await redis.unlink(...own);
  } while (cursor !== '0');
  return n;
}

export async function scalar(ch: ClickHouseClient, query: string): Promise<number> {
  const rs = await ch.query({ query, format: 'JSONEachRow' });
  const rows = await rs.json<Record<string, string | number>>();
  return Number(Object.values(rows[0] ?? { v: 0 })[0]);
}

/** Sum of high watermarks of a topic (the hub's topics start at offset 0: nothing is deleted). */
export async function highWater(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

// ---- child processes: the real entry points, killed for real ----

export interface Child {
  name: string;
  process: ChildProcess;
  /** Resolves when the process logged its ready line. */
  ready: Promise<void>;
  /** The last few KB of its output. */
  tail(): string;
  exited(): boolean;
}

const children = new Set<ChildProcess>();

/**
 * Starts an entry point as `node --import tsx <entry>`, so that SIGKILL hits the process that holds
 * the consumer, not a wrapper. Output goes to LOG_DIR/<name>.log.
 */
export function startChild(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  readyLine: string,
  args: string[] = [],
): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: WriteStream = createWriteStream(join(LOG_DIR, `${name}.log`), { flags: 'a' });
  log.write(`--- start pid ${proc.pid} at ${new Date().toISOString()}\n`);
  let tail = '';
  let resolveReady: () => void = () => {};
  let rejectReady: (e: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-6000);
    if (tail.includes(readyLine)) resolveReady();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  children.add(proc);
  proc.once('exit', (code, signal) => {
    children.delete(proc);
    log.end(`--- exit code ${code} signal ${signal}\n`);
    rejectReady(new Error(`${name} exited (code ${code}, signal ${signal}) before it was ready:\n${tail}`));
  });
  return {
    name,
    process: proc,
    ready,
    tail: () => tail,
    exited: () => proc.exitCode !== null || proc.signalCode !== null,
  };
}

export async function waitReady(child: Child, timeoutMs = 90_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      child.ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${child.name} not ready in ${timeoutMs} ms:\n${child.tail()}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function killChild(child: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (child.exited()) return child.process.exitCode;
  const exited = once(child.process, 'exit');
  child.process.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

/** Stops a child gracefully (SIGTERM), then hard after `graceMs`; returns its exit code. */
export async function stopChild(child: Child, graceMs = 30_000): Promise<number | null> {
  if (child.exited()) return child.process.exitCode;
  const exited = once(child.process, 'exit');
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}

export function killAllChildren(): void {
  for (const c of children) c.kill('SIGKILL');
}

export const entries = {
  stateBuilder: 'processors/src/main-state-builder.ts',
  historySink: 'processors/src/main-history-sink.ts',
  api: 'query-api/src/main.ts',
  rebuild: 'processors/src/rebuild/cli.ts',
} as const;

export function startStateBuilder(env: FaultEnv, tag = 'state-builder'): Child {
  return startChild(
    `${env.name}-${tag}`,
    entries.stateBuilder,
    {
      ...env.env,
      LOG_LEVEL: 'info',
      METRICS_PORT: '0',
      STATE_BUILDER_CHUNK: '100',
      // A killed member holds its partitions until its session expires: keep that short.
      STATE_BUILDER_SESSION_TIMEOUT_MS: '6000',
    },
    'state builder running',
  );
}

export function startHistorySink(env: FaultEnv, tag = 'history-sink'): Child {
  return startChild(
    `${env.name}-${tag}`,
    entries.historySink,
    { ...env.env, LOG_LEVEL: 'info' },
    'history sink running',
  );
}

export async function startApi(env: FaultEnv): Promise<{ child: Child; base: string }> {
  const port = await freePort();
  const child = startChild(
    `${env.name}-api`,
    entries.api,
    { ...env.env, LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1' },
    'query API listening',
  );
  await waitReady(child, 120_000);
  return { child, base: `http://127.0.0.1:${port}` };
}

// ---- shared services: stopped by scenarios 2 and 3, always restarted ----

const stoppedServices = new Set<string>();

function cli(...args: string[]): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', 'infra/local/cli.ts', ...args], { cwd: repoRoot });
}

export async function stopService(name: 'kafka' | 'clickhouse'): Promise<void> {
  stoppedServices.add(name);
  const r = await cli('stop', name);
  if (r.code !== 0) throw new Error(`could not stop ${name}: ${r.output}`);
}

export async function startService(name: 'kafka' | 'clickhouse'): Promise<void> {
  const r = await cli('up', name);
  if (r.code !== 0) throw new Error(`could not start ${name}: ${r.output}`);
  stoppedServices.delete(name);
}

/** Restarts whatever a scenario stopped and did not restart (called on every exit path). */
export async function restoreServices(): Promise<string[]> {
  const restored: string[] = [];
  for (const name of [...stoppedServices]) {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const r = await cli('up', name);
      if (r.code === 0) {
        stoppedServices.delete(name);
        restored.push(name);
        break;
      }
      console.error(`restart of ${name} failed (attempt ${attempt}): ${r.output.slice(-500)}`);
      await sleep(3000);
    }
  }
  return restored;
}

// ---- credentials for every role ----

export interface Credential {
  label: string;
  /** Bearer token: an API key or a session access token. */
  token: string;
  kind: 'key' | 'person';
  role: Role | 'IdentitySource';
}

export interface Credentials {
  operatorKey: string;
  bankKey: string;
  hubKey: string;
  nimcKey: string;
  all: Credential[];
  /** Issues fresh session tokens (after a fuzzed logout revoked one). */
  refreshSessions(): Promise<void>;
  close(): Promise<void>;
}

const PLAN = { generalPerMinute: 10_000_000, verifyPerMinute: 10_000_000 };

/**
 * Publishes organisations, people and API keys on this slice's accounts topic, as the demo seed
 * does. Start the API afterwards: its projector reads the topic before it listens. Session tokens
 * are signed with the same JWT secret and recorded in the same Redis as the API uses.
 */
export async function createCredentials(env: FaultEnv): Promise<Credentials> {
  const security = await Security.create(env.config, { project: false });
  const actor = 'system:faults';
  const organisations: NewOrganisation[] = [
    { id: 'HUB', name: 'Fault hub', type: 'HUB', ...PLAN },
    { id: 'MTN', name: 'Fault MTN', type: 'OPERATOR', operatorCode: 'MTN', ...PLAN },
    { id: 'BANK', name: 'Fault bank', type: 'SERVICE_PROVIDER', ...PLAN },
    { id: 'NIMC', name: 'Fault NIMC', type: 'IDENTITY_SOURCE', ...PLAN },
  ];
  for (const o of organisations) await security.createOrganisation(actor, o);
  const keyOf = async (organisationId: string): Promise<string> => {
    const generated = generateApiKey();
    await security.publish('API_KEY_ISSUED', actor, {
      apiKey: {
        id: randomBytes(16).toString('hex'),
        organisationId,
        name: `${organisationId} fault key`,
        prefix: generated.prefix,
        hash: generated.hash,
        createdAt: Date.now(),
        createdBy: actor,
        expiresAt: null,
        revokedAt: null,
      },
    });
    return generated.key;
  };
  const operatorKey = await keyOf('MTN');
  const bankKey = await keyOf('BANK');
  const hubKey = await keyOf('HUB');
  const nimcKey = await keyOf('NIMC');
  const people: { organisationId: string; role: Role }[] = [
    { organisationId: 'HUB', role: 'Admin' },
    { organisationId: 'HUB', role: 'Auditor' },
    { organisationId: 'HUB', role: 'Analyst' },
    { organisationId: 'MTN', role: 'Operator' },
    { organisationId: 'BANK', role: 'ServiceProvider' },
  ];
  const users: { id: string; organisationId: string; role: Role }[] = [];
  const passwordHash = await hashPassword(`pw-${randomUUID()}`);
  for (const p of people) {
    const id = randomUUID();
    await security.publish('USER_UPSERTED', actor, {
      user: {
        id,
        organisationId: p.organisationId,
        email: `${p.role.toLowerCase()}@faults.local`,
        name: `${p.role} (faults)`,
        role: p.role,
        passwordHash,
        passwordChangedAt: Date.now() - 60_000,
        active: true,
      },
    });
    users.push({ id, ...p });
  }
  const all: Credential[] = [
    { label: 'key:operator', token: operatorKey, kind: 'key', role: 'Operator' },
    { label: 'key:bank', token: bankKey, kind: 'key', role: 'ServiceProvider' },
    { label: 'key:hub', token: hubKey, kind: 'key', role: 'Admin' },
    { label: 'key:nimc', token: nimcKey, kind: 'key', role: 'IdentitySource' },
  ];
  const persons: Credential[] = users.map((u) => ({
    label: `person:${u.role}`,
    token: '',
    kind: 'person',
    role: u.role,
  }));
  all.push(...persons);
  const refreshSessions = async () => {
    for (const [i, u] of users.entries()) {
      persons[i]!.token = (await security.sessions.issue(u)).access_token;
    }
  };
  await refreshSessions();
  return {
    operatorKey,
    bankKey,
    hubKey,
    nimcKey,
    all,
    refreshSessions,
    close: () => security.close(),
  };
}
