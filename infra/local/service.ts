import { join } from 'node:path';
import type { Config } from '../src/config.ts';
import {
  commandLine,
  isAlive,
  isPortOpen,
  readPid,
  removeFile,
  sampleProgress,
  tail,
  terminate,
  waitWhileProgressing,
} from './process.ts';

export interface Context {
  config: Config;
  /** HUB_DATA_DIR */
  dataDir: string;
  log: (message: string) => void;
}

/** A process the local stack runs detached, with a pid file and a log under the data folder. */
export interface LocalService {
  name: string;
  /** Every port it binds on loopback; the first is where clients reach it. */
  ports(ctx: Context): number[];
  address(ctx: Context): string;
  /** Text that appears in the process's command line, to recognise our process by its pid. */
  processMatch: string;
  pidFile(ctx: Context): string;
  logFile(ctx: Context): string;
  /** Installs what the service needs; idempotent and quick when nothing is missing. */
  install?(ctx: Context): Promise<void>;
  /** Starts the process; it (or the launcher) writes the pid file. */
  launch(ctx: Context): Promise<void>;
  healthy(ctx: Context): Promise<boolean>;
  /** Idempotent set-up once healthy (topics, databases). */
  afterStart?(ctx: Context): Promise<void>;
  /**
   * Start: give up after this long without the process making progress (its logs growing, its CPU
   * or I/O busy), or at all when `startCeilingMs` is not set.
   */
  startTimeoutMs: number;
  /** Start: give up after this long in all, even while it works (a data folder that has grown takes longer to load). */
  startCeilingMs?: number;
  /** Stop: SIGKILL after this long without progress since SIGTERM (or at all when `stopCeilingMs` is not set). */
  stopTimeoutMs: number;
  /** Stop: SIGKILL after this long in all, even while it is still shutting down. */
  stopCeilingMs?: number;
  /** Files besides `logFile` whose growth shows the service at work (its own logs). */
  progressFiles?(ctx: Context): string[];
}

function watchedFiles(service: LocalService, ctx: Context): string[] {
  return [service.logFile(ctx), ...(service.progressFiles?.(ctx) ?? [])];
}

export function serviceDir(ctx: Context, name: string): string {
  return join(ctx.dataDir, name);
}

/** The pid of our running process for this service, if there is one. */
export function runningPid(service: LocalService, ctx: Context): number | undefined {
  const pid = readPid(service.pidFile(ctx));
  if (pid === undefined || !isAlive(pid)) return undefined;
  return commandLine(pid).includes(service.processMatch) ? pid : undefined;
}

export class PortInUseError extends Error {
  constructor(service: string, port: number) {
    super(
      `Port ${port} (needed by ${service}) is in use by a process that is not the hub's ${service}. ` +
        `Stop that process, or point the configuration elsewhere.`,
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Starts the service unless our own process already runs it.
 * Returns 'started' when this call launched it, 'running' when it reused one.
 */
export async function ensureStarted(service: LocalService, ctx: Context): Promise<'started' | 'running'> {
  const existing = runningPid(service, ctx);
  let outcome: 'started' | 'running' = 'running';
  if (existing === undefined) {
    removeFile(service.pidFile(ctx));
    for (const port of service.ports(ctx)) {
      if (await isPortOpen(port)) throw new PortInUseError(service.name, port);
    }
    await service.install?.(ctx);
    ctx.log(`${service.name}: starting`);
    await service.launch(ctx);
    outcome = 'started';
  }
  try {
    const started = Date.now();
    await waitWhileProgressing(`${service.name} at ${service.address(ctx)}`, () => service.healthy(ctx), {
      quietMs: service.startTimeoutMs,
      ceilingMs: service.startCeilingMs ?? service.startTimeoutMs,
      progress: () => {
        const pid = runningPid(service, ctx);
        return pid === undefined ? undefined : sampleProgress(pid, watchedFiles(service, ctx));
      },
      onWaiting: (seconds) => ctx.log(`${service.name}: still starting after ${seconds}s (it is working)`),
      abort: () => {
        if (Date.now() - started < 1000) return undefined;
        return runningPid(service, ctx) === undefined
          ? `the process exited; last lines of ${service.logFile(ctx)}:\n${tail(service.logFile(ctx))}`
          : undefined;
      },
    });
    await service.afterStart?.(ctx);
  } catch (error) {
    // Lets a caller that cleans up (with-services) also stop what it launched but could not finish.
    if (outcome === 'started' && error instanceof Error) Object.assign(error, { launched: true });
    throw error;
  }
  ctx.log(
    `${service.name}: ${outcome === 'started' ? 'started' : 'already running'} at ${service.address(ctx)}`,
  );
  return outcome;
}

export async function stopService(service: LocalService, ctx: Context): Promise<boolean> {
  const pid = runningPid(service, ctx);
  if (pid === undefined) {
    removeFile(service.pidFile(ctx));
    return false;
  }
  const how = await terminate(pid, {
    quietMs: service.stopTimeoutMs,
    ceilingMs: service.stopCeilingMs ?? service.stopTimeoutMs,
    logFiles: watchedFiles(service, ctx),
    onWaiting: (seconds) => ctx.log(`${service.name}: still shutting down after ${seconds}s`),
  });
  removeFile(service.pidFile(ctx));
  ctx.log(
    `${service.name}: ${how === 'killed' ? `killed (no clean exit after SIGTERM: no progress for ${service.stopTimeoutMs / 1000}s, or past ${(service.stopCeilingMs ?? service.stopTimeoutMs) / 1000}s)` : 'stopped'}`,
  );
  return true;
}

export interface ServiceStatus {
  name: string;
  state: 'running' | 'starting' | 'stopped';
  pid?: number;
  address: string;
}

export async function serviceStatus(service: LocalService, ctx: Context): Promise<ServiceStatus> {
  const pid = runningPid(service, ctx);
  const address = service.address(ctx);
  if (pid === undefined) return { name: service.name, state: 'stopped', address };
  const ready = await service.healthy(ctx).catch(() => false);
  return { name: service.name, state: ready ? 'running' : 'starting', pid, address };
}
