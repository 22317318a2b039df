import { join } from 'node:path';
import { repoRoot } from '../../src/config.ts';
import { spawnDetached, writePid } from '../process.ts';
import { type Context, type LocalService, serviceDir } from '../service.ts';

const MAIN = join(repoRoot, 'infra', 'registry', 'main.ts');

function url(ctx: Context): URL {
  return new URL(ctx.config.SCHEMA_REGISTRY_URL);
}

export const schemaRegistry: LocalService = {
  name: 'schema-registry',
  processMatch: 'infra/registry/main.ts',
  ports: (ctx) => [Number(url(ctx).port || 80)],
  address: (ctx) => url(ctx).origin,
  pidFile: (ctx) => join(serviceDir(ctx, 'registry'), 'registry.pid'),
  logFile: (ctx) => join(serviceDir(ctx, 'registry'), 'registry.log'),
  startTimeoutMs: 20_000,
  stopTimeoutMs: 10_000,

  async launch(ctx) {
    // One node process running the TypeScript directly (tsx as a loader, not its CLI wrapper).
    const child = spawnDetached({
      command: process.execPath,
      args: ['--import', 'tsx', MAIN],
      cwd: repoRoot,
      env: { ...process.env, HUB_DATA_DIR: ctx.dataDir },
      logFile: schemaRegistry.logFile(ctx),
    });
    if (child.pid === undefined) throw new Error('schema registry could not be started');
    writePid(schemaRegistry.pidFile(ctx), child.pid);
  },

  async healthy(ctx) {
    const response = await fetch(`${url(ctx).origin}/config`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  },
};
