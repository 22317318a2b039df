import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../security/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('outbound_openapi');
});
afterAll(async () => {
  await h?.close();
});

describe('the OpenAPI document', () => {
  it('lists every outbound route and documents the webhook payload as a component', async () => {
    const doc = (await (await h.call('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const [path, method] of [
      ['/api/v1/webhooks/register', 'post'],
      ['/api/v1/webhooks/receive', 'post'],
      ['/api/v1/webhooks/subscriptions', 'get'],
      ['/api/v1/webhooks/subscriptions/{id}', 'delete'],
      ['/api/v1/webhooks/subscriptions/{id}/rotate-secret', 'post'],
      ['/api/v1/webhooks/subscriptions/{id}/deliveries', 'get'],
      ['/api/v1/webhooks/subscriptions/{id}/deliveries/{webhookId}/redeliver', 'post'],
      ['/api/v1/notifications', 'post'],
      ['/api/v1/notifications', 'get'],
      ['/api/v1/notifications/{id}', 'get'],
      ['/ws/{channel}', 'get'],
      ['/api/v1/ws/{channel}', 'get'],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.components.schemas.WebhookEvent).toBeDefined();
    expect(doc.components.schemas.DelinkWebhookEvent).toBeDefined();
    expect(doc.components.schemas.NotificationWebhookEvent).toBeDefined();
  });
});
