import { createRoute, z } from '@hono/zod-openapi';
import { createSurfaceApp, reconixErrors } from '@hub/ingest';
import type { ApiApp, ApiEnv } from '../context.ts';
import { CHANNELS, CLOSE } from '../ws/channels.ts';

const description = `Connect with a WebSocket client to ws://host/ws/{channel}?token=<jwt> (also under /api/v1). The token (a session JWT, or an API key) is checked before the upgrade: missing or invalid answers 401, an unknown channel 404, a channel the caller's role may not join 403. Messages are JSON {channel, type, at, data}. Role filtering: Admin and Auditor see everything; Analyst sim_alerts; Operator its own numbers' sim_alerts and delink_updates and its own notifications; a service provider its own notifications and system messages about its own webhooks. The server pings every WS_PING_INTERVAL_MS and terminates a client that missed the previous pong; close codes: ${CLOSE.UNAUTHORIZED} token no longer valid (re-checked at each heartbeat), ${CLOSE.TOO_SLOW} client too slow (more than WS_MAX_BUFFERED_BYTES queued), ${CLOSE.GOING_AWAY} server shutting down.`;

const channelParam = z.object({
  channel: z.enum(CHANNELS).openapi({ param: { name: 'channel', in: 'path' }, example: 'sim_alerts' }),
});

const routes = ['/ws/{channel}', '/api/v1/ws/{channel}'].map((path) =>
  createRoute({
    method: 'get',
    path,
    tags: ['WebSocket channels'],
    summary: 'WebSocket real-time channel (upgrade); a plain GET answers 426',
    description,
    request: { params: channelParam, query: z.object({ token: z.string().optional() }) },
    responses: {
      101: { description: 'Switching protocols: the channel is open' },
      426: { description: 'Not a WebSocket upgrade request' },
      ...reconixErrors([400, 401, 403, 404]),
    },
  }),
);

/** The WebSocket endpoints in the OpenAPI document; upgrades themselves are handled in ws/channels.ts. */
export function registerWebSocketRoutes(app: ApiApp): void {
  const sub = createSurfaceApp<ApiEnv>();
  for (const route of routes)
    sub.openapi(route, (c) => {
      c.header('Upgrade', 'websocket');
      return c.json(
        {
          detail: 'this endpoint needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)',
          code: 'UPGRADE_REQUIRED',
        },
        426,
      ) as never;
    });
  app.route('/', sub);
}
