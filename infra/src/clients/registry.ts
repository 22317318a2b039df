import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Config } from '../config.ts';

export function createSchemaRegistry(
  config: Pick<Config, 'SCHEMA_REGISTRY_URL' | 'KAFKA_CLIENT_ID'>,
): SchemaRegistry {
  return new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL, clientId: config.KAFKA_CLIENT_ID });
}
