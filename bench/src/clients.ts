import { randomBytes } from 'node:crypto';
import { createKafka, createProducer } from '@hub/infra';
import { Consumer, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka';
import { benchConfig } from './env.ts';
import type { Row } from './table.ts';

export interface ClientBenchOptions {
  messages: number;
  partitions: number;
}

export interface ClientFigures {
  produce: number;
  consume: number;
  /** Consume start to first record (connect, group join, first fetch), ms. */
  consumeJoinMs: number;
}

const VALUE_BYTES = 200;
const SEND_BATCH = 1000;

/** N records keyed like ours (13-digit MSISDN), 200-byte values, sent 1000 per request. */
function workload(n: number): { key: Buffer; value: Buffer }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`234803${String(i).padStart(7, '0')}`),
    value: randomBytes(VALUE_BYTES),
  }));
}

/**
 * The same produce and consume workload through kafkajs (the project's client, with the project's
 * idempotent acks=all producer) and through @platformatic/kafka (idempotent, acks=all), each on a
 * fresh topic: produce N records in sends of 1000, awaiting each; then consume them all with a
 * fresh group, timed from the consume call (connect and group join included) to the last record.
 */
export async function benchClients(
  o: ClientBenchOptions,
): Promise<{ rows: Row[]; raw: Record<string, ClientFigures> }> {
  const config = benchConfig('clients');
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const records = workload(o.messages);
  const topic = (name: string) => `${config.TOPIC_PREFIX}${name}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: ['kafkajs', 'platformatic'].map((n) => ({ topic: topic(n), numPartitions: o.partitions })),
  });
  await admin.disconnect();
  const raw: Record<string, ClientFigures> = {};
  try {
    raw.kafkajs = await viaKafkajs(config, topic('kafkajs'), records);
    raw.platformatic = await viaPlatformatic(config, topic('platformatic'), records);
  } finally {
    // Topics stay for the broker's retention, like every test's.
  }
  const k = raw.kafkajs;
  const p = raw.platformatic;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const rows: Row[] = [
    {
      benchmark: `client: kafkajs produce (${fmt(o.messages)} × ${VALUE_BYTES} B, acks=all)`,
      figure: `${fmt(k.produce)} records/s`,
    },
    {
      benchmark: 'client: @platformatic/kafka produce',
      figure: `${fmt(p.produce)} records/s`,
      ratio: p.produce / k.produce,
      detail: 'ratio: against kafkajs',
    },
    {
      benchmark: 'client: kafkajs consume',
      figure: `${fmt(k.consume)} records/s`,
      detail: `join + first fetch ${fmt(k.consumeJoinMs)} ms`,
    },
    {
      benchmark: 'client: @platformatic/kafka consume',
      figure: `${fmt(p.consume)} records/s`,
      ratio: p.consume / k.consume,
      detail: `ratio: against kafkajs; join + first fetch ${fmt(p.consumeJoinMs)} ms`,
    },
  ];
  return { rows, raw };
}

async function viaKafkajs(
  config: ReturnType<typeof benchConfig>,
  topic: string,
  records: { key: Buffer; value: Buffer }[],
): Promise<ClientFigures> {
  const kafka = createKafka(config);
  const producer = createProducer(kafka);
  await producer.connect();
  let started = performance.now();
  for (let i = 0; i < records.length; i += SEND_BATCH) {
    await producer.send({ topic, messages: records.slice(i, i + SEND_BATCH) });
  }
  const produce = records.length / ((performance.now() - started) / 1000);
  await producer.disconnect();

  const consumer = kafka.consumer({
    groupId: `${topic}.group`,
    maxBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: 2 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let first = 0;
  let last = 0;
  started = performance.now();
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: 6,
        eachBatch: async ({ batch }) => {
          if (first === 0) first = performance.now();
          seen += batch.messages.length;
          if (seen >= records.length) {
            last = performance.now();
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { produce, consume: records.length / ((last - started) / 1000), consumeJoinMs: first - started };
}

async function viaPlatformatic(
  config: ReturnType<typeof benchConfig>,
  topic: string,
  records: { key: Buffer; value: Buffer }[],
): Promise<ClientFigures> {
  const base = { clientId: `${config.KAFKA_CLIENT_ID}-bench`, bootstrapBrokers: config.KAFKA_BROKERS };
  const producer = new Producer({ ...base, idempotent: true, acks: ProduceAcks.ALL });
  let started = performance.now();
  for (let i = 0; i < records.length; i += SEND_BATCH) {
    await producer.send({ messages: records.slice(i, i + SEND_BATCH).map((r) => ({ topic, ...r })) });
  }
  const produce = records.length / ((performance.now() - started) / 1000);
  await producer.close();

  const consumer = new Consumer({
    ...base,
    groupId: `${topic}.group`,
    maxBytes: 16 * 1024 * 1024,
    maxBytesPerPartition: 2 * 1024 * 1024,
  });
  started = performance.now();
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: true,
  });
  let seen = 0;
  let first = 0;
  let last = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      if (first === 0) first = performance.now();
      if (++seen === records.length) {
        last = performance.now();
        resolve();
      }
    });
    stream.once('error', reject);
  });
  await stream.close();
  await consumer.close(true);
  return { produce, consume: records.length / ((last - started) / 1000), consumeJoinMs: first - started };
}
