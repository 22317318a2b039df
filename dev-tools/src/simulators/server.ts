import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface RunningSimulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves a simulator on loopback; port 0 picks a free one (tests). */
export function startSimulator(app: Hono, port: number, hostname = '127.0.0.1'): Promise<RunningSimulator> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            // Open keep-alive sockets would hold close() until they time out.
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    server.once('error', reject);
  });
}
