import { serve } from '@hono/node-server';
import { readJsonBody } from '@hub/ingest';
import { Hono } from 'hono';
import { VERIFY_RESPONSE } from './verify-response.ts';

/**
 * The framework's floor for the API benchmark: the same Hono server the API runs on, answering the
 * verify path with the ceiling's constant after reading and parsing the body as the API does — no
 * authentication, state read or recording. What it costs over the bare ceiling is what any Hono
 * route costs before doing its work.
 */
const app = new Hono();
app.post('/api/v1/phone/api/phone-numbers/verify', async (c) => {
  const body = await readJsonBody(c, 256 * 1024);
  if (!body.ok) return c.json({ error: body.message }, 400);
  return c.body(VERIFY_RESPONSE, 200, { 'content-type': 'application/json' });
});
const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) },
  (info) => console.log(JSON.stringify({ listening: info.port })),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
