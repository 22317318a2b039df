import { randomUUID } from 'node:crypto';
import {
  createKafka,
  createProducer,
  createRecordProducer,
  createSchemaRegistry,
  topicNames,
} from '@hub/infra';
import { EventCodec, type VerificationEvent } from '@hub/schemas';
import { benchConfig, createTopics } from './env.ts';

/**
 * The usage records' Kafka cost, CPU per record, through the project's kafkajs producer and
 * through the record producer the verification worker uses, in slices of a given size (the worker
 * sends a slice every 50 ms, so a slice is the request rate × 50 ms):
 *
 *   npx tsx infra/local/cli.ts with-services -- tsx bench/src/usage-records.ts [records] [slice]
 */
const records = Number(process.argv[2] ?? 100_000);
const slice = Number(process.argv[3] ?? 500);
const config = benchConfig('usage');
await createTopics(config);
const topic = topicNames(config.TOPIC_PREFIX).verifications;
const codec = new EventCodec(createSchemaRegistry(config));
await codec.register('verification', topic);
const now = Date.now();
const events: VerificationEvent[] = Array.from({ length: records }, (_, i) => ({
  eventId: randomUUID(),
  source: 'API',
  requestId: randomUUID(),
  organisation: 'bank-one',
  msisdn: `2348${String(30_000_000 + i).padStart(9, '0')}`,
  channel: 'SINGLE',
  verificationStatus: 'VERIFIED',
  telecomStatus: 'NORMAL',
  lifecycleStatus: 'ACTIVE',
  customer: null,
  occurredAt: now,
  receivedAt: now,
}));

async function measure(name: string, send: (slice: VerificationEvent[]) => Promise<void>): Promise<void> {
  await send(events.slice(0, 1_000));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < records; i += slice) await send(events.slice(i, i + slice));
  const used = process.cpuUsage(cpu);
  const perRecord = (used.user + used.system) / records;
  const rate = records / ((performance.now() - started) / 1000);
  console.log(
    `${name}: ${perRecord.toFixed(2)} µs CPU per record (encoding included), ${Math.round(rate)} records/s`,
  );
}

const encoded = (slice: VerificationEvent[]) =>
  slice.map((e) => ({ key: e.msisdn, value: codec.encode('verification', e) }));

console.log(`${records} verification records in slices of ${slice}`);
const kafkajs = createProducer(createKafka(config));
await kafkajs.connect();
await measure('kafkajs producer', (s) => kafkajs.send({ topic, messages: encoded(s) }).then(() => undefined));
await kafkajs.disconnect();
const producer = createRecordProducer(config);
await measure('record producer (@platformatic/kafka)', (s) => producer.send(topic, encoded(s)));
await producer.close();
