import { randomUUID } from 'node:crypto';
import {
  type Config,
  createClickHouse,
  createDatabase,
  createProducer,
  createSchemaRegistry,
  topicNames,
} from '@hub/infra';
import type { Role } from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import { hashPassword, type NewOrganisation, type Notification, type SecurityOptions } from '@hub/security';
import { migrate } from '../../processors/src/history/migrate.ts';
import { HistorySink } from '../../processors/src/history/sink.ts';
import { KafkaDeadLetters } from '../../processors/src/kafka/dead-letters.ts';
import { createApiApp } from '../../query-api/src/app.ts';
import { type ApiResources, createApiContext } from '../../query-api/src/bootstrap.ts';
import type { ApiApp } from '../../query-api/src/context.ts';
import { createTestTopics, testConfig } from '../support/stack.ts';

export interface Harness {
  config: Config;
  resources: ApiResources;
  app: ApiApp;
  outbox: Notification[];
  /** An organisation with an API key; returns the key. */
  organisation(o: NewOrganisation): Promise<string>;
  /** A user with a known password in an existing organisation. */
  user(
    organisationId: string,
    role: Role,
    email?: string,
  ): Promise<{ email: string; password: string; id: string }>;
  call(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  login(email: string, password: string): Promise<Response>;
  /** Runs the history sink (Kafka → ClickHouse) until close, for audit rows. */
  startHistorySink(): Promise<void>;
  close(): Promise<void>;
}

/** The whole API against real services, with a topic prefix, key prefix and database of its own. */
export async function createHarness(
  name: string,
  security: SecurityOptions = {},
  options: {
    env?: NodeJS.ProcessEnv;
    /** False: no ClickHouse tables until startHistorySink (for tests that read none). */
    history?: boolean;
  } = {},
): Promise<Harness> {
  const config = testConfig(name, { KAFKA_PARTITIONS: '2', ...options.env });
  const kafka = await createTestTopics(config);
  await createDatabase(config);
  const clickhouse = createClickHouse(config);
  let migrated = false;
  const schema = async () => {
    if (!migrated) await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
    migrated = true;
  };
  if (options.history !== false) await schema();
  const stops: (() => Promise<void>)[] = [];
  const outbox: Notification[] = [];
  const resources = await createApiContext(config, {
    security: { notify: async (n) => void outbox.push(n), ...security },
  });
  const app = createApiApp(resources.ctx, []);
  const sec = resources.ctx.security;
  const h: Harness = {
    config,
    resources,
    app,
    outbox,
    async organisation(o) {
      await sec.createOrganisation('system:test', o);
      return (await sec.issueKey('system:test', o.id, `${o.id} test key`)).key;
    },
    async user(organisationId, role, email = `${role.toLowerCase()}-${randomUUID().slice(0, 8)}@test.local`) {
      const password = `pw-${randomUUID()}`;
      const id = randomUUID();
      await sec.publish('USER_UPSERTED', 'system:test', {
        user: {
          id,
          organisationId,
          email,
          name: `${role} user`,
          role,
          passwordHash: await hashPassword(password),
          passwordChangedAt: Date.now() - 5_000,
          active: true,
        },
      });
      return { email, password, id };
    },
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      return app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
    },
    login(email, password) {
      return h.call('POST', '/api/v1/auth/login', { body: { email, password } });
    },
    async startHistorySink() {
      await schema();
      const producer = createProducer(kafka);
      await producer.connect();
      const codec = new EventCodec(createSchemaRegistry(config));
      const topics = topicNames(config.TOPIC_PREFIX);
      await codec.register('audit', topics.audit);
      const sink = new HistorySink({
        kafka,
        clickhouse,
        database: config.CLICKHOUSE_DATABASE,
        codec,
        topics,
        groupId: `${config.TOPIC_PREFIX}history-sink`,
        deadLetters: new KafkaDeadLetters(producer, codec),
        maxWaitMs: 100,
        log: () => {},
      });
      await sink.start();
      stops.push(async () => {
        await sink.stop();
        await producer.disconnect();
      });
    },
    async close() {
      await resources.close();
      for (const stop of stops) await stop();
      await clickhouse
        .command({ query: `DROP DATABASE IF EXISTS ${config.CLICKHOUSE_DATABASE}` })
        .catch(() => undefined);
      await clickhouse.close();
    },
  };
  return h;
}
