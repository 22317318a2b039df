import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, ApiContext } from '../context.ts';
import { registry } from '../metrics.ts';

export interface DependencyProbe {
  name: 'redis' | 'kafka' | 'clickhouse';
  check(): Promise<void>;
}

const Dependency = z.object({
  status: z.enum(['up', 'down']),
  latencyMs: z.number(),
  error: z.string().optional(),
});
const Health = z
  .object({
    status: z.enum(['ok', 'degraded']),
    dependencies: z.object({ redis: Dependency, kafka: Dependency, clickhouse: Dependency }),
  })
  .openapi('Health');

async function probeAll(probes: DependencyProbe[]) {
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
  const dependencies = Object.fromEntries(results) as z.infer<typeof Health>['dependencies'];
  const allUp = results.every(([, r]) => r.status === 'up');
  return { status: allUp ? ('ok' as const) : ('degraded' as const), dependencies };
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
export function registerHealthRoutes(app: ApiApp, _ctx: ApiContext, probes: DependencyProbe[]): void {
  for (const base of ['', '/api/v1']) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${base}/health`,
        tags: ['Infrastructure'],
        summary: 'Health with Redis, Kafka and ClickHouse status',
        responses: { 200: { description: 'Health', content: { 'application/json': { schema: Health } } } },
      }),
      async (c) => c.json(await probeAll(probes), 200),
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
        const health = await probeAll(probes);
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
