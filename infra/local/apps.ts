import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../src/config.ts';
import { isPortOpen, spawnDetached, writePid } from './process.ts';
import type { Context, LocalService } from './service.ts';

/**
 * A pipeline component `npm start` runs after the infrastructure, detached,
 * with its log and pid file under `<HUB_DATA_DIR>/apps/`. Add entries to
 * `appProcesses`; an entry whose `requires` file is absent is skipped, so a
 * component can be listed before it exists.
 */
export interface AppProcess {
  name: string;
  command: string;
  args: string[];
  /** Port it listens on: health is "the port accepts connections". Without one, "still alive after a second". */
  port?: number;
  /** Path relative to the repository root that must exist for the app to be started. */
  requires?: string;
  env?: Record<string, string>;
}

/** Runs a TypeScript entry point with the current node and tsx as a loader (a single process to stop). */
export function tsApp(name: string, entry: string, extra: Partial<AppProcess> = {}): AppProcess {
  return { name, command: process.execPath, args: ['--import', 'tsx', entry], requires: entry, ...extra };
}

/** Pipeline components, in start order; each is its own process (scale by starting more). */
export const appProcesses: AppProcess[] = [
  tsApp('state-builder', 'processors/src/main-state-builder.ts', { port: 9464 }),
  tsApp('history-sink', 'processors/src/main-history-sink.ts'),
  tsApp('api', 'query-api/src/main.ts', { port: 8080 }),
  tsApp('outbound', 'outbound/src/main.ts'),
  // Stand-ins for the notification gateways; their outboxes: GET :18093/messages, GET :18026/messages.
  tsApp('sms-gateway-simulator', 'dev-tools/src/simulators/sms-gateway-main.ts', { port: 18093 }),
  tsApp('smtp-sink', 'dev-tools/src/simulators/smtp-sink-main.ts', { port: 18025 }),
  // The simulators confirm delinks through the API's identity-feed webhook, as NIMC and NIBSS would.
  tsApp('nimc-simulator', 'dev-tools/src/simulators/nimc-main.ts', {
    port: 18091,
    env: { SIM_FEED_URL: 'http://127.0.0.1:8080' },
  }),
  tsApp('nibss-simulator', 'dev-tools/src/simulators/nibss-main.ts', {
    port: 18092,
    env: { SIM_FEED_URL: 'http://127.0.0.1:8080' },
  }),
  tsApp('delink-dispatcher', 'delink/src/main.ts'),
];

/**
 * One-shot steps `npm start` runs to completion after the infrastructure is up and before the
 * components start: demo credentials and the synthetic national sample (each done once).
 */
export const setupSteps: AppProcess[] = [tsApp('demo-seed', 'dev-tools/src/demo/seed.ts')];

export function isPresent(app: AppProcess): boolean {
  return app.requires === undefined || existsSync(join(repoRoot, app.requires));
}

export function appService(app: AppProcess): LocalService {
  const dir = (ctx: Context) => join(ctx.dataDir, 'apps');
  let launchedAt = 0;
  const service: LocalService = {
    name: app.name,
    processMatch: app.args.at(-1) ?? app.command,
    ports: () => (app.port === undefined ? [] : [app.port]),
    address: () => (app.port === undefined ? '-' : `http://127.0.0.1:${app.port}`),
    pidFile: (ctx) => join(dir(ctx), `${app.name}.pid`),
    logFile: (ctx) => join(dir(ctx), `${app.name}.log`),
    startTimeoutMs: 60_000,
    stopTimeoutMs: 30_000,
    async launch(ctx) {
      const child = spawnDetached({
        command: app.command,
        args: app.args,
        cwd: repoRoot,
        env: { ...process.env, HUB_DATA_DIR: ctx.dataDir, ...app.env },
        logFile: service.logFile(ctx),
      });
      if (child.pid === undefined) throw new Error(`${app.name} could not be started`);
      writePid(service.pidFile(ctx), child.pid);
      launchedAt = Date.now();
    },
    async healthy() {
      if (app.port !== undefined) return isPortOpen(app.port);
      return Date.now() - launchedAt > 1000;
    },
  };
  return service;
}
