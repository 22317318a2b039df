import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { run, which } from '../process.ts';
import { type Context, type LocalService, serviceDir } from '../service.ts';
import { aptInstall } from './apt.ts';

function port(ctx: Context): number {
  return Number(new URL(ctx.config.REDIS_URL).port || 6379);
}

function ping(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port: p, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

export const redis: LocalService = {
  name: 'redis',
  processMatch: 'redis-server',
  ports: (ctx) => [port(ctx)],
  address: (ctx) => `redis://127.0.0.1:${port(ctx)}`,
  pidFile: (ctx) => join(serviceDir(ctx, 'redis'), 'redis.pid'),
  logFile: (ctx) => join(serviceDir(ctx, 'redis'), 'redis.log'),
  startTimeoutMs: 15_000,
  stopTimeoutMs: 15_000,

  async install(ctx) {
    if (!which('redis-server')) await aptInstall(ctx, ['redis-server']);
  },

  async launch(ctx) {
    const dir = serviceDir(ctx, 'redis');
    mkdirSync(dir, { recursive: true });
    const binary = which('redis-server') ?? 'redis-server';
    // --daemonize: redis forks, writes its own pid file and the launcher exits.
    const result = await run(binary, [
      '--port',
      String(port(ctx)),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      // State records are ~55 bytes (up to ~80): with Redis's default of 64 a bucket holding one
      // larger record leaves the compact listpack encoding, nearly doubling bytes per number.
      '--hash-max-listpack-value',
      '128',
      '--daemonize',
      'yes',
      '--pidfile',
      redis.pidFile(ctx),
      '--logfile',
      redis.logFile(ctx),
    ]);
    if (result.code !== 0)
      throw new Error(`redis-server failed to start (exit ${result.code}): ${result.output}`);
  },

  healthy: (ctx) => ping(port(ctx)),
};
