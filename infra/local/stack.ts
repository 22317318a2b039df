import { loadConfig, repoRoot } from '../src/config.ts';
import { appProcesses, appService, isPresent, setupSteps } from './apps.ts';
import { run } from './process.ts';
import {
  type Context,
  ensureStarted,
  type LocalService,
  type ServiceStatus,
  serviceStatus,
  stopService,
} from './service.ts';
import { clickhouse } from './services/clickhouse.ts';
import { kafka } from './services/kafka.ts';
import { redis } from './services/redis.ts';
import { schemaRegistry } from './services/registry.ts';

/** Infrastructure in start order; stopped in reverse, so Kafka goes last. */
export const infraServices: readonly LocalService[] = [kafka, clickhouse, redis, schemaRegistry];

export function createContext(env: NodeJS.ProcessEnv = process.env, log = defaultLog): Context {
  const config = loadConfig(env);
  return { config, dataDir: config.HUB_DATA_DIR, log };
}

function defaultLog(message: string): void {
  console.log(`[local] ${message}`);
}

export function appServices(): LocalService[] {
  return appProcesses.filter(isPresent).map(appService);
}

export function allServices(): LocalService[] {
  return [...infraServices, ...appServices()];
}

export function selectServices(names: readonly string[], from: readonly LocalService[] = allServices()) {
  if (names.length === 0) return [...from];
  const unknown = names.filter((n) => !from.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(`Unknown service ${unknown.join(', ')}; known: ${from.map((s) => s.name).join(', ')}`);
  }
  return from.filter((s) => names.includes(s.name));
}

/** Installs what the infrastructure needs (apt packages, Kafka jars); quick when nothing is missing. */
export async function install(ctx: Context): Promise<void> {
  for (const service of infraServices) await service.install?.(ctx);
}

/**
 * Starts the given services (all infrastructure by default) in parallel,
 * reusing any already running. Returns the names of those this call started.
 */
export async function startServices(ctx: Context, services: readonly LocalService[]): Promise<string[]> {
  // Installs run one at a time (apt takes a lock); starts then run side by side.
  for (const service of services) await service.install?.(ctx);
  const results = await Promise.allSettled(services.map((s) => ensureStarted(s, ctx)));
  // Includes what was launched but then failed its health check, so a caller can stop it.
  const started = services.filter((_, i) => {
    const r = results[i];
    if (r?.status === 'rejected') return (r.reason as { launched?: boolean } | undefined)?.launched === true;
    return r?.value === 'started';
  });
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected'
      ? [`${services[i]?.name}: ${r.reason instanceof Error ? r.reason.message : r.reason}`]
      : [],
  );
  if (failures.length > 0) {
    const error = new Error(`Could not start:\n${failures.join('\n')}`) as Error & { started: string[] };
    error.started = started.map((s) => s.name);
    throw error;
  }
  return started.map((s) => s.name);
}

export function startInfra(ctx: Context = createContext()): Promise<string[]> {
  return startServices(ctx, infraServices);
}

/** Starts infrastructure, then whichever pipeline components are present. */
export async function startAll(ctx: Context = createContext()): Promise<string[]> {
  const infra = await startInfra(ctx);
  for (const step of setupSteps.filter(isPresent)) {
    ctx.log(`${step.name}: running`);
    const result = await run(step.command, step.args, {
      cwd: repoRoot,
      env: { ...process.env, HUB_DATA_DIR: ctx.dataDir },
      inherit: true,
    });
    if (result.code !== 0) throw new Error(`${step.name} failed with exit code ${result.code}`);
  }
  const apps = appServices();
  const started = apps.length > 0 ? await startServices(ctx, apps) : [];
  return [...infra, ...started];
}

/** Stops in reverse start order: apps first, Kafka last. */
export async function stopServices(ctx: Context, services: readonly LocalService[]): Promise<string[]> {
  const stopped: string[] = [];
  for (const service of [...services].reverse()) {
    if (await stopService(service, ctx)) stopped.push(service.name);
  }
  return stopped;
}

export function statuses(
  ctx: Context,
  services: readonly LocalService[] = allServices(),
): Promise<ServiceStatus[]> {
  return Promise.all(services.map((s) => serviceStatus(s, ctx)));
}

export function formatStatus(rows: readonly ServiceStatus[]): string {
  const table = [
    ['SERVICE', 'STATE', 'PID', 'ADDRESS'],
    ...rows.map((r) => [r.name, r.state, r.pid === undefined ? '-' : String(r.pid), r.address]),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  return table
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
