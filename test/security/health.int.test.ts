import { OpenAPIHono } from '@hono/zod-openapi';
import { createLogger } from '@hub/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../query-api/src/app.ts';
import type { ApiApp, ApiEnv } from '../../query-api/src/context.ts';
import {
  type DependencyProbe,
  HEALTH_CACHE_MS,
  registerHealthRoutes,
} from '../../query-api/src/routes/health.ts';
import { createHarness, type Harness } from './harness.ts';

/** What a failing driver would say: internal host names and addresses that must not leak. */
const INTERNAL = 'connect ECONNREFUSED 10.20.30.40:9092 (broker kafka-internal-3.hub.local)';

let h: Harness;
let app: ApiApp;
let adminToken: string;
let analystToken: string;
let keyOfBank: string;
let probes: DependencyProbe[];

beforeAll(async () => {
  h = await createHarness('health', {}, { history: false });
  probes = [
    { name: 'redis', check: async () => {} },
    {
      name: 'kafka',
      check: async () => {
        throw new Error(INTERNAL);
      },
    },
    { name: 'clickhouse', check: async () => {} },
  ];
  app = createApiApp(h.resources.ctx, probes);
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  keyOfBank = await h.organisation({ id: 'BANKA', name: 'Bank A', type: 'SERVICE_PROVIDER' });
  const sessions = h.resources.ctx.security.sessions;
  const admin = await h.user('HUB', 'Admin');
  adminToken = (await sessions.issue({ id: admin.id, organisationId: 'HUB', role: 'Admin' })).access_token;
  const analyst = await h.user('HUB', 'Analyst');
  analystToken = (await sessions.issue({ id: analyst.id, organisationId: 'HUB', role: 'Analyst' }))
    .access_token;
});

afterAll(async () => {
  await h?.close();
});

const get = (path: string, token?: string) =>
  app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe('/health', () => {
  it('tells an unauthenticated caller up or down per dependency, and nothing of the error', async () => {
    for (const path of ['/health', '/api/v1/health', '/health/ready', '/api/v1/health/ready']) {
      const res = await get(path);
      expect(res.status).toBe(path.endsWith('ready') ? 503 : 200);
      const text = await res.text();
      expect(text).not.toContain('ECONNREFUSED');
      expect(text).not.toContain('10.20.30.40');
      expect(JSON.parse(text)).toEqual({
        status: 'degraded',
        dependencies: { redis: { status: 'up' }, kafka: { status: 'down' }, clickhouse: { status: 'up' } },
      });
    }
  });

  it('shows the same public view to callers that are not Admins, or whose token is not valid', async () => {
    for (const token of [analystToken, keyOfBank, 'not-a-token']) {
      const body = (await (await get('/health', token)).json()) as { dependencies: { kafka: object } };
      expect(body.dependencies.kafka).toEqual({ status: 'down' });
    }
  });

  it('gives an authenticated Admin the error and latencies', async () => {
    for (const path of ['/health', '/api/v1/health']) {
      const body = (await (await get(path, adminToken)).json()) as {
        dependencies: Record<string, { status: string; latencyMs?: number; error?: string }>;
      };
      expect(body.dependencies.kafka?.error).toBe(INTERNAL);
      expect(body.dependencies.redis?.latencyMs).toBeTypeOf('number');
    }
  });
});

describe('/health and the log', () => {
  it('logs the error of a dependency that is down, whoever asked', async () => {
    const lines: string[] = [];
    const log = createLogger({ LOG_LEVEL: 'info' }, 'query-api', {
      write: (line: string) => void lines.push(line),
    });
    const own = new OpenAPIHono<ApiEnv>();
    registerHealthRoutes(own, h.resources.ctx, probes, log);
    expect((await own.request('/health')).status).toBe(200);
    const entries = lines.map((l) => JSON.parse(l) as { level: string; dependency?: string; error?: string });
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'warn', dependency: 'kafka', error: INTERNAL }),
    );
  });
});

describe('/health under a burst', () => {
  it('probes each dependency once for calls that arrive together, and again once the result is old', async () => {
    let checks = 0;
    const counted: DependencyProbe[] = ['redis', 'kafka', 'clickhouse'].map((name) => ({
      name: name as DependencyProbe['name'],
      check: async () => {
        checks++;
        await new Promise((r) => setTimeout(r, 50));
      },
    }));
    const own = new OpenAPIHono<ApiEnv>();
    registerHealthRoutes(own, h.resources.ctx, counted, createLogger({ LOG_LEVEL: 'error' }, 'query-api'));
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => own.request(i % 2 ? '/health' : '/api/v1/health/ready')),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(checks).toBe(3);
    await new Promise((r) => setTimeout(r, HEALTH_CACHE_MS + 50));
    expect((await own.request('/health')).status).toBe(200);
    expect(checks).toBe(6);
  });
});
