import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@hub/infra';
import type { Hono } from 'hono';
import { DelinkDesk, feedTargetFromEnv } from './delink.ts';
import { Faults, faultsFromEnv } from './faults.ts';
import { EMPTY_SEED, IdentityIndex, loadIdentitySeed } from './identities.ts';
import { startSimulator } from './server.ts';

/** Starts one simulator on the port of its configured URL, seeded from the sample's identities file. */
export async function runSimulator(
  name: 'NIMC' | 'NIBSS',
  urlOf: (config: ReturnType<typeof loadConfig>) => string,
  create: (index: IdentityIndex, faults: Faults, desk: DelinkDesk) => Hono,
): Promise<void> {
  const config = loadConfig();
  const seedPath = process.env.SIM_IDENTITIES ?? join(config.HUB_DATA_DIR, 'simulators', 'identities.json');
  const seed = existsSync(seedPath) ? loadIdentitySeed(seedPath) : EMPTY_SEED;
  const log = (message: string, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({ level: 'info', service: `${name.toLowerCase()}-simulator`, message, ...extra }),
    );
  if (seed === EMPTY_SEED) log('no identities file: every lookup answers "not found"', { seedPath });
  const url = new URL(urlOf(config));
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const running = await startSimulator(
    create(
      new IdentityIndex(seed),
      new Faults(faultsFromEnv(process.env)),
      // Delink confirmations go to the hub's identity-feed webhook (SIM_FEED_URL, SIM_FEED_API_KEY).
      new DelinkDesk(
        name,
        feedTargetFromEnv(process.env, name, join(config.HUB_DATA_DIR, 'demo-credentials.json')),
      ),
    ),
    port,
  );
  log('listening', {
    url: running.url,
    nins: Object.keys(seed.nins).length,
    bvns: Object.keys(seed.bvns).length,
  });
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
