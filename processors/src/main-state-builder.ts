import { createServer } from 'node:http';
import { loadConfig } from '@hub/infra';
import { jsonLog } from './kafka/logger.ts';
import { registry } from './metrics.ts';
import { runStateBuilder } from './state-builder/runtime.ts';

/**
 * The state builder as its own process. Its own settings (STATE_BUILDER_GROUP, METRICS_PORT,
 * STATE_BUILDER_CHUNK, STATE_BUILDER_SESSION_TIMEOUT_MS) are in the one config schema with the rest.
 */
const config = loadConfig();
const log = jsonLog('state-builder', config.LOG_LEVEL);

const groupId = config.STATE_BUILDER_GROUP ?? `${config.TOPIC_PREFIX}state-builder`;
const metricsPort = config.METRICS_PORT;
const maxChunkSize = config.STATE_BUILDER_CHUNK;
const sessionTimeoutMs = config.STATE_BUILDER_SESSION_TIMEOUT_MS;

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      },
      (err: Error) => {
        res.writeHead(500);
        res.end(err.message);
      },
    );
    return;
  }
  res.writeHead(404);
  res.end();
});
// Signal handlers go in before start-up, so a SIGTERM during start-up still ends in a clean stop.
let shuttingDown = false;
const startup = runStateBuilder(config, {
  groupId,
  publishStateChanges: true,
  log,
  maxChunkSize,
  sessionTimeoutMs,
});
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log('info', 'draining', { signal });
  try {
    const running = await startup;
    await running.stop();
    server.close();
    log('info', 'stopped', { signal });
    process.exit(0);
  } catch (err) {
    log('error', 'shutdown failed', { error: String(err) });
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await new Promise<void>((resolve) => server.listen(metricsPort, config.HOST, resolve));
const address = server.address();
log('info', 'metrics listening', {
  port: typeof address === 'object' && address ? address.port : metricsPort,
});

await startup;
log('info', 'state builder running', {
  groupId,
  prefix: config.TOPIC_PREFIX,
  redisKeyPrefix: config.REDIS_KEY_PREFIX,
});
