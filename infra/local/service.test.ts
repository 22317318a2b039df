import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { isAlive, isPortOpen, spawnDetached, writePid } from './process.ts';
import {
  type Context,
  ensureStarted,
  type LocalService,
  PortInUseError,
  runningPid,
  serviceStatus,
  stopService,
} from './service.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'hub-local-'));
const ctx: Context = { config: loadConfig({ HUB_DATA_DIR: dataDir }), dataDir, log: () => {} };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A stand-in service: a node process listening on a port. */
function fakeService(port: number): LocalService {
  const marker = `hub-fake-service-${port}`;
  const service: LocalService = {
    name: 'fake',
    processMatch: marker,
    ports: () => [port],
    address: () => `127.0.0.1:${port}`,
    pidFile: () => join(dataDir, `fake-${port}.pid`),
    logFile: () => join(dataDir, `fake-${port}.log`),
    startTimeoutMs: 10_000,
    stopTimeoutMs: 5_000,
    async launch() {
      const child = spawnDetached({
        command: process.execPath,
        args: ['-e', `require('net').createServer().listen(${port}, '127.0.0.1')`, marker],
        logFile: service.logFile(ctx),
      });
      writePid(service.pidFile(ctx), child.pid!);
    },
    healthy: () => isPortOpen(port),
  };
  return service;
}

describe('local service lifecycle', () => {
  it('starts once, reuses the running process, and stops it', async () => {
    const service = fakeService(await freePort());
    expect(await ensureStarted(service, ctx)).toBe('started');
    const pid = runningPid(service, ctx)!;
    expect(await ensureStarted(service, ctx)).toBe('running');
    expect(runningPid(service, ctx)).toBe(pid);
    expect(await serviceStatus(service, ctx)).toMatchObject({ state: 'running', pid });

    expect(await stopService(service, ctx)).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(await serviceStatus(service, ctx)).toMatchObject({ state: 'stopped' });
    expect(await stopService(service, ctx)).toBe(false);
  });

  it('refuses a port held by a process that is not ours, naming the port', async () => {
    const port = await freePort();
    const squatter = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      const attempt = ensureStarted(fakeService(port), ctx);
      await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
      await expect(attempt).rejects.toThrow(`Port ${port}`);
    } finally {
      squatter.close();
    }
  });

  it('ignores a stale pid file whose process is gone', async () => {
    const service = fakeService(await freePort());
    writePid(service.pidFile(ctx), 999_999);
    expect(runningPid(service, ctx)).toBeUndefined();
    expect(await ensureStarted(service, ctx)).toBe('started');
    await stopService(service, ctx);
  });
});

/** A stand-in that runs `script` (node, with PORT and LOG set) as its process. */
function scriptedService(port: number, script: string, timeouts: Partial<LocalService>): LocalService {
  const marker = `hub-scripted-service-${port}`;
  const service: LocalService = {
    name: 'scripted',
    processMatch: marker,
    ports: () => [port],
    address: () => `127.0.0.1:${port}`,
    pidFile: () => join(dataDir, `scripted-${port}.pid`),
    logFile: () => join(dataDir, `scripted-${port}.log`),
    startTimeoutMs: 1000,
    stopTimeoutMs: 1000,
    ...timeouts,
    async launch() {
      const child = spawnDetached({
        command: process.execPath,
        args: ['-e', script, marker],
        logFile: service.logFile(ctx),
        env: { ...process.env, PORT: String(port), WORK_LOG: service.logFile(ctx) },
      });
      writePid(service.pidFile(ctx), child.pid!);
    },
    healthy: () => isPortOpen(port),
  };
  return service;
}

/** Logs a line every 100 ms for `ms` (a server loading its data), then listens. */
const loadsFor = (ms: number) =>
  `const t = setInterval(() => console.log('loading part', Date.now()), 100);
   setTimeout(() => { clearInterval(t); require('net').createServer().listen(Number(process.env.PORT), '127.0.0.1'); }, ${ms});`;

describe('local service start and stop on a busy server', () => {
  it('waits past the start timeout while the service is working, until it is ready', async () => {
    const service = scriptedService(await freePort(), loadsFor(3000), {
      startTimeoutMs: 1000,
      startCeilingMs: 20_000,
    });
    const started = Date.now();
    expect(await ensureStarted(service, ctx)).toBe('started');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    await stopService(service, ctx);
  });

  it('gives up on a service that shows no progress for the start timeout', async () => {
    // Alive and silent: neither its log nor its CPU moves.
    const service = scriptedService(await freePort(), 'setInterval(() => {}, 1000);', {
      startTimeoutMs: 1500,
      startCeilingMs: 20_000,
    });
    const started = Date.now();
    await expect(ensureStarted(service, ctx)).rejects.toThrow(
      /no progress for the last 2s|not ready after 2s/,
    );
    expect(Date.now() - started).toBeLessThan(8000);
    await stopService(service, ctx);
  });

  it('lets a service that is still shutting down after SIGTERM finish instead of killing it', async () => {
    const port = await freePort();
    // On SIGTERM it flushes for 3 s (logging as it goes), then exits by itself.
    const service = scriptedService(
      port,
      `require('net').createServer().listen(Number(process.env.PORT), '127.0.0.1');
       process.on('SIGTERM', () => {
         setInterval(() => console.log('flushing', Date.now()), 100);
         setTimeout(() => process.exit(0), 3000);
       });`,
      { stopTimeoutMs: 1000, stopCeilingMs: 20_000 },
    );
    const lines: string[] = [];
    const logged: Context = { ...ctx, log: (m) => lines.push(m) };
    await ensureStarted(service, logged);
    const pid = runningPid(service, logged)!;
    expect(await stopService(service, logged)).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(lines.at(-1)).toBe('scripted: stopped');
  });

  it('kills a service that ignores SIGTERM and does nothing', async () => {
    const service = scriptedService(
      await freePort(),
      `require('net').createServer().listen(Number(process.env.PORT), '127.0.0.1');
       process.on('SIGTERM', () => {});`,
      { stopTimeoutMs: 1000, stopCeilingMs: 20_000 },
    );
    const lines: string[] = [];
    const logged: Context = { ...ctx, log: (m) => lines.push(m) };
    await ensureStarted(service, logged);
    const pid = runningPid(service, logged)!;
    const started = Date.now();
    await stopService(service, logged);
    expect(isAlive(pid)).toBe(false);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(lines.at(-1)).toMatch(/^scripted: killed/);
  });
});
