/**
 * How an operator produces status events straight onto the hub's Kafka, without the HTTP API:
 * Avro with Confluent framing, the subject's registered schema, the canonical MSISDN as key and
 * Kafka's default murmur2 partitioner (the Java default; librdkafka needs partitioner=murmur2_random).
 *
 *   npx tsx ingest/examples/produce-status-avro.ts 08031234567 SWAPPED [YYYY-MM-DD]
 *
 * Uses the same environment variables as the hub (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, TOPIC_PREFIX).
 */
import { randomUUID } from 'node:crypto';
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

const topic = `${process.env.TOPIC_PREFIX ?? 'hub.'}status-updates`;
const registry = new SchemaRegistry({ host: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081' });
const kafka = new Kafka({
  clientId: 'operator-example',
  brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
});
const producer = kafka.producer({
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
});

const schemaId = await registry.getLatestSchemaId(`${topic}-value`);
const value = await registry.encode(schemaId, {
  eventId: randomUUID(),
  source: 'KAFKA',
  operator: process.env.OPERATOR_CODE ?? 'MTN',
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
