import { join } from 'node:path';
import type { Config } from '../src/config.ts';
import {
  commandLine,
  isAlive,
  isPortOpen,
  readPid,
  removeFile,
  tail,
  terminate,
  waitFor,
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
  startTimeoutMs: number;
  stopTimeoutMs: number;
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
    await waitFor(`${service.name} at ${service.address(ctx)}`, () => service.healthy(ctx), {
      timeoutMs: service.startTimeoutMs,
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
  const how = await terminate(pid, service.stopTimeoutMs);
  removeFile(service.pidFile(ctx));
  ctx.log(
    `${service.name}: ${how === 'killed' ? `killed (no exit within ${service.stopTimeoutMs / 1000}s)` : 'stopped'}`,
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
