/**
 * How an operator produces status events straight onto the hub's Kafka, without the HTTP API:
 * Avro with Confluent framing, the subject's registered schema, the canonical MSISDN as key and
 * Kafka's default murmur2 partitioner (the Java default; librdkafka needs partitioner=murmur2_random).
 *
 *   npx tsx ingest/examples/produce-status-avro.ts 08031234567 SWAPPED [YYYY-MM-DD]
 *
 * Reads the hub's environment through its config schema (KAFKA_BROKERS, SCHEMA_REGISTRY_URL,
 * TOPIC_PREFIX, and OPERATOR_CODE for the operator the record names).
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@hub/infra';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, Partitioners } from 'kafkajs';

const [number, status = 'NORMAL', date = new Date().toISOString().slice(0, 10)] = process.argv.slice(2);
const digits = (number ?? '').replace(/^\+/, '');
const msisdn =
  digits.length === 11 && digits.startsWith('0')
    ? `234${digits.slice(1)}`
    : digits.length === 10
      ? `234${digits}`
      : digits;
if (!/^234[1-9]\d{9}$/.test(msisdn)) {
  console.error(
    'usage: produce-status-avro.ts <msisdn> [NORMAL|CHURNED|SWAPPED|BLACKLISTED|REASSIGNED] [YYYY-MM-DD]',
  );
  process.exit(2);
}

const config = loadConfig();
const topic = `${config.TOPIC_PREFIX}status-updates`;
const registry = new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL });
const kafka = new Kafka({ clientId: 'operator-example', brokers: config.KAFKA_BROKERS });
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});

const schemaId = await registry.getLatestSchemaId(`${topic}-value`);
const value = await registry.encode(schemaId, {
  eventId: randomUUID(),
  source: 'KAFKA',
  operator: config.OPERATOR_CODE,
  msisdn,
  status,
  occurrenceDate: date,
  reassignmentDate: status === 'SWAPPED' || status === 'CHURNED' ? date : null,
  remarks: 'produced directly to Kafka',
  batchId: null,
  occurredAt: Date.parse(`${date}T00:00:00Z`),
  receivedAt: Date.now(),
});
await producer.connect();
const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: msisdn, value }] });
await producer.disconnect();
console.log(
  `produced ${status} for ${msisdn} to ${topic} partition ${meta?.partition} offset ${meta?.baseOffset} (schema id ${schemaId})`,
);
