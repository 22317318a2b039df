import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE } from '../../query-api/src/ws/channels.ts';
import { createHarness, type Harness } from '../security/harness.ts';
import { organisationsOf, waitFor } from './support.ts';

/**
 * WebSocket connection upkeep: heartbeats (a ping every WS_PING_INTERVAL_MS; a client that
 * missed the previous pong is terminated) and the slow-client bound (more than
 * WS_MAX_BUFFERED_BYTES queued for a client closes it with 4008).
 */

const PING_MS = 500;
const MAX_BUFFERED = 64 * 1024;

let h: Harness;
let server: Server;
let base: string;
let admin: string;
let bank: string;
const open: WebSocket[] = [];

async function session(org: string, role: Parameters<Harness['user']>[1]): Promise<string> {
  const u = await h.user(org, role);
  return ((await (await h.login(u.email, u.password)).json()) as { access_token: string }).access_token;
}

function connect(path: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(`${base}${path}`, options);
  open.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws)); // SUBSCRIBED
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; at: number }>((resolve) =>
    ws.once('close', (code) => resolve({ code, at: Date.now() })),
  );

beforeAll(async () => {
  h = await createHarness(
    'ws_connections',
    {},
    { env: { WS_PING_INTERVAL_MS: String(PING_MS), WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) } },
  );
  const org = organisationsOf(h);
  await org('HUBADMIN', 'HUB', null);
  await org('YBANK', 'SERVICE_PROVIDER', null);
  await org('XBANK', 'SERVICE_PROVIDER', null);
  admin = await session('HUBADMIN', 'Admin');
  bank = await session('YBANK', 'ServiceProvider');
  server = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  h.resources.channels.attach(server);
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const ws of open) ws.terminate();
  server?.close();
  await h?.close();
});

describe('WebSocket connections', () => {
  it('pings every interval and keeps a client that answers; terminates one that stops answering', async () => {
    const hub = h.resources.channels;
    const live = await connect(`/ws/system?token=${admin}`);
    // autoPong off: this client reads pings but never answers them, like a peer that went away.
    const dead = await connect(`/ws/system?token=${admin}`, { autoPong: false });
    let pings = 0;
    let deadPings = 0;
    live.on('ping', () => pings++);
    dead.on('ping', () => deadPings++);
    const gone = closed(dead);
    const opened = Date.now();
    const { code, at } = await gone;
    // Terminated (no close frame: 1006 at the client) after one unanswered ping, within two intervals or so.
    expect(code).toBe(1006);
    expect(deadPings).toBeGreaterThanOrEqual(1);
    expect(at - opened).toBeLessThan(PING_MS * 4);
    await new Promise((r) => setTimeout(r, PING_MS * 3));
    expect(live.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(hub.size).toBe(1);
    live.close();
    await waitFor('the live client gone', () => hub.size === 0, 2_000);
  });

  it('closes a client that does not read with 4008 once more than the bound is queued, and no one else', async () => {
    const hub = h.resources.channels;
    const slow = await connect(`/ws/system?token=${bank}`);
    const reader = await connect(`/ws/system?token=${bank}`);
    let read = 0;
    reader.on('message', () => read++);
    const reason = new Promise<{ code: number; reason: string }>((resolve) =>
      slow.once('close', (code, why) => resolve({ code, reason: why.toString() })),
    );
    // Stop reading: the kernel buffers fill, then the server's queue for this client grows.
    slow.pause();
    const big = 'x'.repeat(100 * 1024);
    let published = 0;
    for (let i = 0; i < 400 && hub.size === 2; i++) {
      hub.publish(
        { channel: 'system', type: 'BULK', at: new Date().toISOString(), data: { i, big } },
        { organisation: 'YBANK' },
      );
      published++;
      // Let the sockets flush what they can between messages, as a real feed would.
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.size).toBe(1);
    // Resumed, the client reads what was queued and then the close frame.
    slow.resume();
    const { code, reason: why } = await reason;
    expect(code).toBe(CLOSE.TOO_SLOW);
    expect(why).toContain(`over ${MAX_BUFFERED} bytes queued`);
    // The client that reads got every message and is still connected.
    await waitFor('the reader has every message', () => read >= published, 10_000);
    expect(reader.readyState).toBe(WebSocket.OPEN);
    reader.close();
    await waitFor('the reader gone', () => hub.size === 0, 2_000);
    console.log(`slow client closed after ${published} messages of 100 KiB`);
  });

  it("shows an organisation's system messages to it and to Admins only", async () => {
    const own = await connect(`/ws/system?token=${bank}`);
    const other = await connect(`/ws/system?token=${await session('XBANK', 'ServiceProvider')}`);
    const root = await connect(`/ws/system?token=${admin}`);
    const got = { own: 0, other: 0, root: 0 };
    own.on('message', () => got.own++);
    other.on('message', () => got.other++);
    root.on('message', () => got.root++);
    const sent = h.resources.channels.publish(
      { channel: 'system', type: 'WEBHOOK_ENDPOINT_DISABLED', at: new Date().toISOString(), data: {} },
      { organisation: 'YBANK' },
    );
    expect(sent).toBe(2);
    await waitFor('own and admin got it', () => got.own === 1 && got.root === 1, 2_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.other).toBe(0);
  });
});
