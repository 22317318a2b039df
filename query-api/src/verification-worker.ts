import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { type Config, createLogger, createRecordProducer, createSchemaRegistry } from '@hub/infra';
import type { DropReason } from '@hub/ingest';
import { EventCodec, type VerificationEvent } from '@hub/schemas';
import { type NewVerification, VerificationQueue } from './verification-queue.ts';

/**
 * The verification recorder's Kafka side, in a worker thread: event ids, Avro encoding and the
 * Kafka client's record batches cost more per number than answering the verification, so they run
 * beside the request loop. The request loop hands records over every few milliseconds (copied,
 * so they do not linger in its heap); this thread batches, encodes and sends them.
 */
export type ToWorker =
  | { type: 'record'; events: NewVerification[] }
  | { type: 'flush'; id: number }
  | { type: 'close'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; id: number }
  | { type: 'dropped'; count: number; reason: DropReason };

const { config, topic, maxQueued } = workerData as { config: Config; topic: string; maxQueued?: number };
const port = parentPort;
if (!port) throw new Error('verification-worker runs as a worker thread');
const post = (m: FromWorker) => port.postMessage(m);

const log = createLogger(config, 'verification-recorder');
const codec = new EventCodec(createSchemaRegistry(config));
await codec.register('verification', topic);
// The usage records' own producer: a record per verified number makes the Kafka client's cost per
// record the largest part of a verification (createRecordProducer says why this client).
const producer = createRecordProducer(config);

// Event ids are given on arrival, so a slice sent again after a failure carries the same ids and
// history counts each record once.
const queue = new VerificationQueue<VerificationEvent>(
  async (events) => {
    const records = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      records[i] = { key: e.msisdn, value: codec.encode('verification', e) };
    }
    await producer.send(topic, records);
  },
  {
    // Slices every 50 ms: the client's cost per send is that of some 50 records, and usage records
    // need not be on Kafka sooner.
    flushIntervalMs: 50,
    ...(maxQueued ? { maxQueued } : {}),
    onDropped: (count, reason) => post({ type: 'dropped', count, reason }),
    onSendFailed: (err, records) =>
      log.warn(
        { records, queued: queue.queued, error: err.message },
        'verification records not sent; retrying',
      ),
  },
);

port.on('message', (m: ToWorker) => {
  if (m.type === 'record') return queue.record(m.events.map((e) => ({ eventId: randomUUID(), ...e })));
  const done = m.type === 'flush' ? queue.flush() : queue.close().then(() => producer.close());
  void done.finally(() => post({ type: 'done', id: m.id }));
});
post({ type: 'ready' });
