import net from 'node:net';
import { type Config, createKafka, createProducer } from '@hub/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTopics, testConfig } from '../support/stack.ts';

/**
 * A TCP relay to the broker. Armed, it hands the broker's answers to nobody and closes their
 * connections: a request is applied and its answer lost, as when a broker stops just after
 * appending a batch (and a reconnection gets no further).
 */
function losingRelay(broker: { host: string; port: number }) {
  let armed = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(broker.port, broker.host);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!armed) {
        client.write(chunk);
        return;
      }
      client.destroy();
      upstream.destroy();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  return {
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      ),
    arm: (on: boolean) => {
      armed = on;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

let config: Config;
let relay: ReturnType<typeof losingRelay>;
let relayPort: number;

beforeAll(async () => {
  config = testConfig('lost_answer', { KAFKA_PARTITIONS: '1' });
  await createTestTopics(config);
  const [host, port] = config.KAFKA_BROKERS[0]!.split(':');
  relay = losingRelay({ host: host!, port: Number(port) });
  relayPort = await relay.listen();
});

afterAll(() => relay?.close());

describe('createProducer after a send whose answer was lost', () => {
  it('does not lose the next send as a duplicate of the one the broker already holds', async () => {
    // Every connection, whatever broker address the metadata names, goes through the relay; one
    // quick retry (the idempotent producer needs one), which the armed relay also fails.
    const kafka = createKafka(config, {
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
      socketFactory: ({ onConnect }) => net.connect(relayPort, '127.0.0.1', onConnect),
    });
    const topic = `${config.TOPIC_PREFIX}status-updates`;
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'a', value: 'first' }] });
      relay.arm(true);
      await expect(producer.send({ topic, messages: [{ key: 'b', value: 'second' }] })).rejects.toThrow();
      relay.arm(false);
      // Same length as the lost one: with its sequence numbers, the broker would drop it.
      await producer.send({ topic, messages: [{ key: 'c', value: 'third' }] });
    } finally {
      await producer.disconnect();
    }
    const admin = createKafka(config).admin();
    await admin.connect();
    try {
      const [p0] = await admin.fetchTopicOffsets(topic);
      // first, second (applied, answer lost) and third.
      expect(p0!.high).toBe('3');
    } finally {
      await admin.disconnect();
    }
  });
});
