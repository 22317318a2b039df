import net from 'node:net';
import { type Config, createKafka } from '@hub/infra';
import type { Kafka } from 'kafkajs';

export interface KafkaOutage {
  /** A client of the shared broker whose connections this test can cut. */
  kafka: Kafka;
  /** From now on the broker is unreachable for this client: open sockets drop, new ones are refused. */
  cut(): void;
  /** The broker is reachable again. */
  restore(): void;
}

/**
 * A Kafka outage seen by one client only, for tests: the client's sockets go through a factory
 * that, while cut, connects to a closed port (ECONNREFUSED). The shared broker keeps running for
 * every other test.
 */
export function kafkaOutage(config: Config): KafkaOutage {
  const sockets = new Set<net.Socket>();
  let down = false;
  const kafka = createKafka(config, {
    // Enough retries to ride out a fresh topic's leader election, short enough to fail fast when cut.
    retry: { retries: 6, initialRetryTime: 100, maxRetryTime: 1_000 },
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    socketFactory: ({ host, port, onConnect }) => {
      const socket = down
        ? net.connect({ host: '127.0.0.1', port: 1 })
        : net.connect({ host, port }, onConnect);
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      return socket;
    },
  });
  return {
    kafka,
    cut() {
      down = true;
      // With an error, as a reset connection reaches the client: kafkajs then reconnects.
      for (const s of sockets) s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    },
    restore() {
      down = false;
    },
  };
}
