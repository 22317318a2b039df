import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post } from './http-post.ts';

let server: Server;
let base: string;
const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
const routes: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('answer 200'),
  '/empty': (res) => res.writeHead(204).end(),
  '/long': (res) => {
    // Chunked, in pieces that split a multi-byte character.
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    const text = 'é'.repeat(300);
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i += 7) res.write(bytes.subarray(i, i + 7));
    res.end();
  },
  '/slow': (res) => void setTimeout(() => res.writeHead(200).end('late'), 3000),
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      routes[req.url ?? '']?.(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('post', () => {
  it('sends the headers and body and answers the status and the text', async () => {
    const res = await post(new URL(`${base}/ok`), { 'webhook-id': 'msg_1' }, '{"a":"é"}', 1000);
    expect(res).toEqual({ status: 200, text: 'answer 200' });
    expect(seen.at(-1)?.headers['webhook-id']).toBe('msg_1');
    expect(seen.at(-1)?.body).toBe('{"a":"é"}');
  });

  it('answers an empty text for a body-less answer', async () => {
    expect(await post(new URL(`${base}/empty`), {}, 'x', 1000)).toEqual({ status: 204, text: '' });
  });

  it('keeps the first `snippet` characters of a long answer split inside characters', async () => {
    const res = await post(new URL(`${base}/long`), {}, 'x', 1000, 256);
    expect(res.status).toBe(500);
    expect(res.text).toBe('é'.repeat(256));
  });

  // undici's timers are coarse (about half a second), so the gap is wide.
  it('rejects with a TimeoutError when the answer takes longer than the timeout', async () => {
    await expect(post(new URL(`${base}/slow`), {}, 'x', 1000)).rejects.toMatchObject({
      name: 'TimeoutError',
      message: 'no answer within 1000 ms',
    });
  });

  it('rejects on a connection error', async () => {
    await expect(post(new URL('http://127.0.0.1:1/hook'), {}, 'x', 1000)).rejects.toThrow();
  });
});
