import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, loadConfig } from '@hub/infra';
import type { Hono } from 'hono';
import { DelinkDesk, feedTargetFromConfig } from './delink.ts';
import { demoAccountLines, withDemoIdentities } from './demo-identities.ts';
import { Faults, faultsFromConfig } from './faults.ts';
import { EMPTY_SEED, IdentityIndex, loadIdentitySeed } from './identities.ts';
import { startSimulator } from './server.ts';

/** Starts one simulator on the port of its configured URL, seeded from the sample's identities file. */
export async function runSimulator(
  name: 'NIMC' | 'NIBSS',
  urlOf: (config: ReturnType<typeof loadConfig>) => string,
  create: (index: IdentityIndex, faults: Faults, desk: DelinkDesk) => Hono,
): Promise<void> {
  const config = loadConfig();
  const seedPath = config.SIM_IDENTITIES ?? join(config.HUB_DATA_DIR, 'simulators', 'identities.json');
  const sample = existsSync(seedPath) ? loadIdentitySeed(seedPath) : EMPTY_SEED;
  const logger = createLogger(config, `${name.toLowerCase()}-simulator`);
  if (sample === EMPTY_SEED)
    logger.info({ seedPath }, 'no identities file: only the published demo identities are known');
  const seed = withDemoIdentities(sample);
  logger.info(
    { demoAccounts: demoAccountLines() },
    'published demo accounts (README: Simulator demo accounts)',
  );
  const url = new URL(urlOf(config));
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const running = await startSimulator(
    create(
      new IdentityIndex(seed),
      new Faults(faultsFromConfig(config)),
      // Delink confirmations go to the hub's identity-feed webhook (SIM_FEED_URL, SIM_FEED_API_KEY).
      new DelinkDesk(
        name,
        feedTargetFromConfig(config, name, join(config.HUB_DATA_DIR, 'demo-credentials.json')),
      ),
    ),
    port,
  );
  logger.info(
    { url: running.url, nins: Object.keys(seed.nins).length, bvns: Object.keys(seed.bvns).length },
    'listening',
  );
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
