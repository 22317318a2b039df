import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { FieldError } from './envelope.ts';

export type BodyResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      code: 'MALFORMED_JSON' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE';
      message: string;
      errors?: FieldError[];
    };

/**
 * Reads a JSON request body with a size limit, without trusting Content-Length alone, and parses
 * it strictly (JSON.parse: no comments, no trailing commas). Errors say what was wrong and where.
 */
export async function readJsonBody(c: Context, maxBytes: number): Promise<BodyResult> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    return {
      ok: false,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `Content-Type must be application/json, got '${type || 'none'}'`,
    };
  }
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) return tooLarge(maxBytes);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of bodyChunks(c)) {
    size += chunk.byteLength;
    if (size > maxBytes) return tooLarge(maxBytes);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '')
    return { ok: false, code: 'MALFORMED_JSON', message: 'request body is empty; expected JSON' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return {
      ok: false,
      code: 'MALFORMED_JSON',
      message: `request body is not valid JSON: ${(err as Error).message}`,
    };
  }
}

/**
 * The request body's bytes. Under @hono/node-server the Node request stream is read directly: going
 * through the web Request body would build a Request, an AbortSignal and a web stream per call,
 * which costs more than the rest of a verification. Elsewhere (tests, other runtimes) the web body.
 */
async function* bodyChunks(c: Context): AsyncGenerator<Uint8Array> {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Readable && !incoming.readableEnded) {
    // Stopping early (too large) must not destroy the socket: the answer still has to go out on it.
    yield* incoming.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    return;
  }
  const reader = c.req.raw.body?.getReader();
  if (!reader) return;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function tooLarge(maxBytes: number): BodyResult {
  return {
    ok: false,
    code: 'PAYLOAD_TOO_LARGE',
    message: `request body exceeds ${maxBytes} bytes`,
  };
}
