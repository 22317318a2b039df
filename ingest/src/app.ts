import type { OpenAPIHono } from '@hono/zod-openapi';
import type { IngestContext, IngestEnv } from './context.ts';
import { createSurfaceApp } from './openapi.ts';
import { registerIdentityFeedRoutes } from './routes/identity-feeds.ts';
import { registerStatusUpdateRoutes } from './routes/status-updates.ts';

/**
 * The ingest routes as one Hono sub-app; the public server mounts it at the root so clients see
 * one base URL. Routes are registered in the order a reader meets them in the TIRMS document.
 */
export function createIngestApp(ctx: IngestContext): OpenAPIHono<IngestEnv> {
  const app = createSurfaceApp<IngestEnv>();
  registerStatusUpdateRoutes(app, ctx);
  registerIdentityFeedRoutes(app, ctx);
  return app;
}
