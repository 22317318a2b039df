import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { createRegistryServer, Registry } from './server.ts';
import { RegistryStore } from './store.ts';

/** Local-only schema registry process, started by `infra/local/cli.ts` (see infra/registry/server.ts). */
const config = loadConfig();
const url = new URL(config.SCHEMA_REGISTRY_URL);
const file = join(config.HUB_DATA_DIR, 'registry', 'schemas.json');
const server = createRegistryServer(new Registry(new RegistryStore(file)));

server.listen(Number(url.port || 80), url.hostname, () => {
  createLogger(config, 'schema-registry').info({ url: config.SCHEMA_REGISTRY_URL, file }, 'listening');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
