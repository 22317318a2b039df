import { createLogger } from '@hub/infra';
import {
  createIngestApp,
  createSurfaceApp,
  errorResponse,
  requestHeader,
  responseHeader,
  surfaceError,
} from '@hub/ingest';
import { httpExceptionResponse, securityHeaders } from '@hub/security';
import type { ApiApp, ApiContext, ApiEnv } from './context.ts';
import { DOCS_PAGE } from './docs-page.ts';
import { observeRequest } from './metrics.ts';
import { StaticPathRouter } from './router.ts';
import { registerApiKeyRoutes } from './routes/api-keys.ts';
import { registerAuditLogRoutes } from './routes/audit-logs.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerCorroborateRoutes } from './routes/corroborate.ts';
import { registerDashboardRoutes } from './routes/dashboard.ts';
import { registerDataSubjectRoutes } from './routes/data-subject.ts';
import { registerDelinkRequestRoutes } from './routes/delink-requests.ts';
import { type DependencyProbe, registerHealthRoutes } from './routes/health.ts';
import { registerIdentityRoutes } from './routes/identity.ts';
import { registerLinkageRoutes } from './routes/linkages.ts';
import { registerLookupRoutes } from './routes/lookups.ts';
import { registerNameEnquiryRoutes } from './routes/name-enquiry.ts';
import { registerNinVerifyRoutes } from './routes/nin-verify.ts';
import { registerNotificationRoutes } from './routes/notifications.ts';
import { registerOkraIdentityRoutes } from './routes/okra-identities.ts';
import { registerRecycledSimRoutes } from './routes/recycled-sims.ts';
import { registerRiskCheckRoutes } from './routes/risk-checks.ts';
import { registerTirmsVerifyRoutes } from './routes/tirms-verify.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';
import { registerWebSocketRoutes } from './routes/ws.ts';

const REQUEST_ID = /^[\w.-]{1,64}$/;

const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/** Reads and discards a body; false if it is longer than `limit` (then it is left unread). */
async function drain(body: ReadableStream<Uint8Array>, limit: number): Promise<boolean> {
  const reader = body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return false;
      }
    }
  } catch {
    return false;
  }
}

/**
 * The one public server's application. Routes are registered in the order a reader meets them:
 * infrastructure, TIRMS operator ingest, TIRMS verification, then the Reconix-style groups.
 */
export function createApiApp(ctx: ApiContext, probes: DependencyProbe[]): ApiApp {
  const app = createSurfaceApp<ApiEnv>();
  // Before any route is added: every route lands in this router (see router.ts for why not Hono's).
  app.router = new StaticPathRouter();

  const logger = ctx.logger ?? createLogger(ctx.config, 'query-api');

  app.use('*', securityHeaders());
  app.use('*', async (c, next) => {
    const incoming = requestHeader(c, 'x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', requestId);
    // The request's child logger is made on first use (requestLog): most requests log only the
    // access line below, which carries the same fields from the process logger.
    c.set('logRoot', logger);
    responseHeader(c, 'X-Request-Id', requestId);
    const started = performance.now();
    await next();
    // A refusal decided before the body was read (401, 403, …) still reads the body, up to the
    // largest body any route accepts, so the client can finish sending and read the answer. A body
    // left part-read (413) or too large to drain closes the connection, so the client does not
    // reuse a socket with unread bytes on it.
    const status = c.res.status;
    if (status >= 400 && c.req.raw.body !== null) {
      const drained = !c.req.raw.bodyUsed && (await drain(c.req.raw.body, MAX_DRAIN_BYTES));
      if (!drained) c.header('Connection', 'close');
    }
    const method = c.req.method;
    const route = c.req.routePath || 'unmatched';
    const seconds = (performance.now() - started) / 1000;
    observeRequest(method, route, status, seconds);
    // The access log: the route pattern, never the path, the query or a body (they hold numbers).
    // The request id first, where the child logger's binding puts it: the same line either way.
    logger.info(
      { requestId, method, route, status, durationMs: Math.round(seconds * 100_000) / 100 },
      'request',
    );
  });

  app.use('/api/*', ctx.security.middleware(ctx.ingest.authenticate));

  registerHealthRoutes(app, ctx, probes);
  registerAuthRoutes(app, ctx);
  registerApiKeyRoutes(app, ctx);
  app.route('/', createIngestApp(ctx.ingest));
  registerTirmsVerifyRoutes(app, ctx);
  registerAuditLogRoutes(app, ctx);
  registerCorroborateRoutes(app, ctx);
  registerDashboardRoutes(app, ctx);
  registerLinkageRoutes(app, ctx);
  registerIdentityRoutes(app, ctx);
  registerRiskCheckRoutes(app, ctx);
  registerLookupRoutes(app, ctx);
  registerNameEnquiryRoutes(app, ctx);
  registerOkraIdentityRoutes(app, ctx);
  registerNinVerifyRoutes(app, ctx);
  registerRecycledSimRoutes(app, ctx);
  registerDelinkRequestRoutes(app, ctx);
  registerDataSubjectRoutes(app, ctx, ctx.dataSubject);
  registerWebhookRoutes(app, ctx);
  registerWebSocketRoutes(app);
  registerNotificationRoutes(app, ctx);

  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'MSISDN identity-risk hub',
      version: '1.0.0',
      description:
        'TIRMS-compatible status updates and verification, Reconix-compatible identity mapping, linkage checks, corroboration, dashboards and audit.',
    },
  });
  app.get('/docs', (c) => c.html(DOCS_PAGE));

  app.notFound((c) => surfaceError(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`));
  // A dependency that cannot answer (Kafka, Redis, ClickHouse, a rebuild) is a 503 with
  // Retry-After; anything else is a bug: a 500 whose request id the log and the client share.
  app.onError((err, c) => httpExceptionResponse(err, c) ?? errorResponse(c, err));
  return app;
}
