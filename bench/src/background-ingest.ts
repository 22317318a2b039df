import { createKafka, createProducer, createSchemaRegistry, loadConfig, topicNames } from '@hub/infra';
import { EventCodec, todayInLagos } from '@hub/schemas';

/**
 * Steady background ingest for the freshness benchmark, as its own process so its CPU does not
 * disturb the latency measurements: RATE status events a second (NORMAL, today, for numbers of the
 * MTN 0806 range), produced straight onto the status topic in a batch every 50 ms, until SIGTERM.
 * Prints `background ingest running`, and on exit one JSON line with what it sent.
 */
const config = loadConfig();
const rate = Number(process.env.RATE ?? 2000);
const topics = topicNames(config.TOPIC_PREFIX);
const codec = new EventCodec(createSchemaRegistry(config));
await codec.register('status-update', topics.statusUpdates);
const producer = createProducer(createKafka(config));
await producer.connect();
let sent = 0;
let running = true;
const started = performance.now();
process.on('SIGTERM', () => {
  running = false;
});
console.log('background ingest running');
const today = todayInLagos();
while (running) {
  const due = Math.floor(((performance.now() - started) / 1000) * rate) - sent;
  if (due > 0) {
    const messages = Array.from({ length: due }, (_, i) => {
      const n = sent + i;
      const msisdn = `234806${String(n % 10_000_000).padStart(7, '0')}`;
      return {
        key: msisdn,
        value: codec.encode('status-update', {
          eventId: `bg-${process.pid}-${n}`,
          source: 'BENCH',
          msisdn,
          operator: 'MTN',
          status: 'NORMAL',
          occurrenceDate: today,
          reassignmentDate: null,
          remarks: null,
          batchId: null,
          occurredAt: Date.now(),
          receivedAt: Date.now(),
        }),
      };
    });
    await producer.send({ topic: topics.statusUpdates, messages });
    sent += due;
  }
  await new Promise((r) => setTimeout(r, 50));
}
await producer.disconnect();
console.log(JSON.stringify({ sent, seconds: (performance.now() - started) / 1000 }));
process.exit(0);
