import { createServer } from 'node:http';
import { loadConfig } from '@hub/infra';
import { jsonLog } from './kafka/logger.ts';
import { registry } from './metrics.ts';
import { runStateBuilder } from './state-builder/runtime.ts';

/**
 * The state builder as its own process. Besides the shared configuration it reads:
 *   STATE_BUILDER_GROUP  consumer group (default `<TOPIC_PREFIX>state-builder`)
 *   METRICS_PORT         port of the /metrics endpoint on HOST (default 9464; 0 picks a free port)
 *   STATE_BUILDER_CHUNK  records per committed chunk (default 1000)
 *   STATE_BUILDER_SESSION_TIMEOUT_MS  consumer session timeout (default 30000, kafkajs' own)
 */
const config = loadConfig();
const log = jsonLog('state-builder', config.LOG_LEVEL);

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

const groupId = process.env.STATE_BUILDER_GROUP || `${config.TOPIC_PREFIX}state-builder`;
const metricsPort = intEnv('METRICS_PORT', 9464, 0, 65_535);
const maxChunkSize = intEnv('STATE_BUILDER_CHUNK', 1000, 1, 100_000);
const sessionTimeoutMs = intEnv('STATE_BUILDER_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000);

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
