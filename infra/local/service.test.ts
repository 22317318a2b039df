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
