import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { bufferedStdout, createLogger, loadConfig } from '@hub/infra';
import { createApiApp } from './app.ts';
import { createApiContext } from './bootstrap.ts';

const config = loadConfig();
// A line per request: written in batches (bufferedStdout says what that risks).
const logger = createLogger(config, 'query-api', bufferedStdout());
const resources = await createApiContext(config, { log: logger });
const app = createApiApp({ ...resources.ctx, logger }, resources.probes);
const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  logger.info({ address: `http://${info.address}:${info.port}` }, 'query API listening');
});

resources.channels.attach(server as Server);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining');
  server.close();
  await resources.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
