import type { ClickHouseClient } from '@clickhouse/client';
import type { Config } from '@hub/infra';
import {
  DeliveryLog,
  DeliveryLogReader,
  type DeliveryRecord,
  type NotificationEvent,
  NotificationStore,
  OutboundCodec,
  outboundKeys,
  SecretBox,
  SubscriptionCommands,
  type SubscriptionEvent,
  SubscriptionProjector,
  SubscriptionStore,
  type UrlPolicy,
} from '@hub/outbound';
import type { Redis } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';

/** What the webhook routes need: the subscription projection, its commands and the delivery log. */
export interface WebhookApi {
  store: SubscriptionStore;
  commands: SubscriptionCommands;
  deliveries: DeliveryLogReader;
  /** Redelivery requests go onto the webhook-deliveries topic; the worker acts on them. */
  requests: DeliveryLog;
  urlPolicy: UrlPolicy;
  /** Notifications: requests go onto the notifications topic; reads come from the worker's projection. */
  notifications: {
    store: NotificationStore;
    publish(n: NotificationEvent): Promise<void>;
  };
  close(): Promise<void>;
}

/** Starts this API instance's subscription projection (it replays the compacted topic first). */
export async function createWebhookApi(o: {
  config: Config;
  kafka: Kafka;
  producer: Producer;
  redis: Redis;
  clickhouse: ClickHouseClient;
  topics: { webhookSubscriptions: string; webhookDeliveries: string; notifications: string };
  registry: ConstructorParameters<typeof OutboundCodec>[0];
  now: () => number;
}): Promise<WebhookApi> {
  const keys = outboundKeys(o.config.REDIS_KEY_PREFIX);
  const codec = await new OutboundCodec<SubscriptionEvent>(o.registry, 'webhook-subscription').register(
    o.topics.webhookSubscriptions,
  );
  const deliveryCodec = await new OutboundCodec<DeliveryRecord>(o.registry, 'webhook-delivery').register(
    o.topics.webhookDeliveries,
  );
  const notificationCodec = await new OutboundCodec<NotificationEvent>(o.registry, 'notification').register(
    o.topics.notifications,
  );
  const projector = new SubscriptionProjector({
    kafka: o.kafka,
    redis: o.redis,
    keys,
    codec,
    topic: o.topics.webhookSubscriptions,
  });
  await projector.start();
  return {
    store: new SubscriptionStore(o.redis, keys),
    commands: new SubscriptionCommands({
      producer: o.producer,
      codec,
      topic: o.topics.webhookSubscriptions,
      projector,
      box: new SecretBox(o.config.WEBHOOK_SECRET_KEY),
      now: o.now,
    }),
    deliveries: new DeliveryLogReader(o.clickhouse, o.config.CLICKHOUSE_DATABASE),
    requests: new DeliveryLog(o.producer, deliveryCodec, o.topics.webhookDeliveries, 0),
    urlPolicy: { production: o.config.NODE_ENV === 'production', allowlist: o.config.WEBHOOK_URL_ALLOWLIST },
    notifications: {
      store: new NotificationStore(o.redis, o.config.REDIS_KEY_PREFIX),
      async publish(n) {
        await o.producer.send({
          topic: o.topics.notifications,
          acks: -1,
          messages: [{ key: n.id, value: notificationCodec.encode(n) }],
        });
      },
    },
    close: () => projector.stop(),
  };
}
