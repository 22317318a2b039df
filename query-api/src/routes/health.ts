import { createRoute, z } from '@hono/zod-openapi';
import { createLogger, type Logger } from '@hub/infra';
import { type Principal, requestHeader, rolesOf } from '@hub/ingest';
import type { Context } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import { registry } from '../metrics.ts';

export interface DependencyProbe {
  name: 'redis' | 'kafka' | 'clickhouse';
  check(): Promise<void>;
}

const Dependency = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number().optional().openapi({ description: 'Shown to authenticated Admins only' }),
  error: z.string().optional().openapi({ description: 'Why it is down; shown to authenticated Admins only' }),
});
const Health = z
  .object({
    status: z.enum(['ok', 'degraded']),
    dependencies: z.object({ redis: Dependency, kafka: Dependency, clickhouse: Dependency }),
  })
  .openapi('Health');
type HealthBody = z.infer<typeof Health>;

async function probeAll(probes: DependencyProbe[]): Promise<HealthBody> {
  const results = await Promise.all(
    probes.map(async (p) => {
      const started = performance.now();
      try {
        await withTimeout(p.check(), 2_000);
        return [p.name, { status: 'up' as const, latencyMs: round(performance.now() - started) }] as const;
      } catch (err) {
        return [
          p.name,
          {
            status: 'down' as const,
            latencyMs: round(performance.now() - started),
            error: (err as Error).message,
          },
        ] as const;
      }
    }),
  );
  const dependencies = Object.fromEntries(results) as HealthBody['dependencies'];
  const allUp = results.every(([, r]) => r.status === 'up');
  return { status: allUp ? ('ok' as const) : ('degraded' as const), dependencies };
}

/** What a caller who is not an authenticated Admin sees: up or down per dependency, nothing internal. */
function publicView(health: HealthBody): HealthBody {
  const dependencies = Object.fromEntries(
    Object.entries(health.dependencies).map(([name, d]) => [name, { status: d.status }]),
  ) as HealthBody['dependencies'];
  return { status: health.status, dependencies };
}

/** An Admin's credentials on the request; anything else (none, invalid, another role) is public. */
async function isAdmin(c: Context<ApiEnv>, ctx: ApiContext): Promise<boolean> {
  let principal: Principal | null = c.get('principal') ?? null;
  if (!principal) {
    const authorization = requestHeader(c, 'authorization');
    if (!authorization) return false;
    principal = await ctx.security.authenticate(authorization).catch(() => null);
  }
  return principal !== null && rolesOf(principal).includes('Admin');
}

/**
 * One probe of the dependencies at a time, its result shared for `HEALTH_CACHE_MS`: health routes
 * are public, and a burst of calls must neither multiply the load on the stores (an amplifier
 * for anyone) nor, by queueing its own probes, make a busy store look down.
 */
export const HEALTH_CACHE_MS = 1_000;

function sharedProbe(probes: DependencyProbe[], log: Logger): () => Promise<HealthBody> {
  let last: { at: number; health: Promise<HealthBody> } | null = null;
  return () => {
    const now = performance.now();
    if (last && now - last.at < HEALTH_CACHE_MS) return last.health;
    const health = probeAll(probes).then((h) => {
      // Once per probe, not once per caller that shares it.
      for (const [name, d] of Object.entries(h.dependencies))
        if (d.status === 'down')
          log.warn({ dependency: name, error: d.error, latencyMs: d.latencyMs }, 'dependency down');
      return h;
    });
    last = { at: now, health };
    return health;
  };
}

async function answer(c: Context<ApiEnv>, ctx: ApiContext, probe: () => Promise<HealthBody>) {
  const health = await probe();
  return (await isAdmin(c, ctx)) ? health : publicView(health);
}

const round = (ms: number) => Math.round(ms * 100) / 100;
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)),
  ]);
}

/**
 * Health, liveness, readiness and Prometheus metrics, under /api/v1 (Reconix) and at the root,
 * where probes and scrapers look.
 */
export function registerHealthRoutes(
  app: ApiApp,
  ctx: ApiContext,
  probes: DependencyProbe[],
  log: Logger = createLogger(ctx.config, 'query-api').child({ component: 'health' }),
): void {
  const probe = sharedProbe(probes, log);
  for (const base of ['', '/api/v1']) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${base}/health`,
        tags: ['Infrastructure'],
        summary:
          'Health: up or down for Redis, Kafka and ClickHouse; latency and errors for authenticated Admins (and the log)',
        responses: { 200: { description: 'Health', content: { 'application/json': { schema: Health } } } },
      }),
      async (c) => c.json(await answer(c, ctx, probe), 200),
    );
    app.openapi(
      createRoute({
        method: 'get',
        path: `${base}/health/live`,
        tags: ['Infrastructure'],
        summary: 'Liveness probe: always 200 while the process serves',
        responses: {
          200: {
            description: 'Alive',
            content: { 'application/json': { schema: z.object({ status: z.literal('alive') }) } },
          },
        },
      }),
      (c) => c.json({ status: 'alive' as const }, 200),
    );
    app.openapi(
      createRoute({
        method: 'get',
        path: `${base}/health/ready`,
        tags: ['Infrastructure'],
        summary: 'Readiness probe: 503 until Redis, Kafka and ClickHouse are all reachable',
        responses: {
          200: { description: 'Ready', content: { 'application/json': { schema: Health } } },
          503: { description: 'Not ready', content: { 'application/json': { schema: Health } } },
        },
      }),
      async (c) => {
        const health = await answer(c, ctx, probe);
        return health.status === 'ok' ? c.json(health, 200) : c.json(health, 503);
      },
    );
    app.openapi(
      createRoute({
        method: 'get',
        path: `${base}/metrics`,
        tags: ['Infrastructure'],
        summary: 'Prometheus metrics',
        responses: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
        },
      }),
      async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }),
    );
  }
}
