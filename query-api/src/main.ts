import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { loadConfig } from '@hub/infra';
import { createApiApp } from './app.ts';
import { createApiContext } from './bootstrap.ts';

const config = loadConfig();
const resources = await createApiContext(config);
const app = createApiApp(resources.ctx, resources.probes);
const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) => {
  console.log(
    JSON.stringify({
      level: 'info',
      message: 'query API listening',
      address: `http://${info.address}:${info.port}`,
    }),
  );
});

resources.channels.attach(server as Server);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ level: 'info', message: `${signal}: draining` }));
  server.close();
  await resources.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
