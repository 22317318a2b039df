import { serve } from '@hono/node-server';
import { createRedis, loadConfig } from '@hub/infra';
import { readJsonBody } from '@hub/ingest';
import { Hono } from 'hono';
import { VERIFY_RESPONSE } from './verify-response.ts';

/**
 * The framework's floor for the API benchmark: the same Hono server the API runs on, answering the
 * verify path with the ceiling's constant after reading and parsing the body as the API does and
 * one Redis GET on a client set up as the API's (auto-pipelining) — no authentication, state
 * decoding or recording. What it costs over the bare ceiling is what any Hono route with one Redis
 * round trip costs before doing its work.
 */
const config = loadConfig();
const redis = createRedis(config, { enableAutoPipelining: true });
// verify.ts writes it before the run.
const key = `${config.REDIS_KEY_PREFIX}bench:floor`;
const app = new Hono();
app.post('/api/v1/phone/api/phone-numbers/verify', async (c) => {
  const body = await readJsonBody(c, 256 * 1024);
  if (!body.ok) return c.json({ error: body.message }, 400);
  const value = await redis.getBuffer(key);
  if (value === null) return c.json({ error: `no ${key} in Redis` }, 500);
  return c.body(VERIFY_RESPONSE, 200, { 'content-type': 'application/json' });
});
const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
  (info) => console.log(JSON.stringify({ listening: info.port })),
);
process.on('SIGTERM', () =>
  server.close(() => {
    redis.disconnect();
    process.exit(0);
  }),
);
