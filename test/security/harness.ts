import { randomUUID } from 'node:crypto';
import type { Config } from '@hub/infra';
import type { Role } from '@hub/ingest';
import { hashPassword, type NewOrganisation, type Notification, type SecurityOptions } from '@hub/security';
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
  close(): Promise<void>;
}

/** The whole API against real services, with a topic prefix, key prefix and database of its own. */
export async function createHarness(name: string, security: SecurityOptions = {}): Promise<Harness> {
  const config = testConfig(name);
  await createTestTopics(config);
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
    async close() {
      await resources.close();
    },
  };
  return h;
}
