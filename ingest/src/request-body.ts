import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import type { FieldError } from './envelope.ts';
import { nodeRequest, requestHeader } from './node-http.ts';

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
  const type = requestHeader(c, 'content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    return {
      ok: false,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `Content-Type must be application/json, got '${type || 'none'}'`,
    };
  }
  const declared = Number(requestHeader(c, 'content-length') ?? '0');
  if (declared > maxBytes) return tooLarge(maxBytes);
  const bytes = await readBody(c, maxBytes);
  if (bytes === null) return tooLarge(maxBytes);
  const text = bytes.toString('utf8');
  if (text.trim() === '')
    return { ok: false, code: 'MALFORMED_JSON', message: 'request body is empty; expected JSON' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, code: 'MALFORMED_JSON', message: `request body ${jsonSyntaxProblem(err, text)}` };
  }
}

/**
 * What is wrong with JSON that did not parse, and where (line and column), without quoting any of
 * it: V8's own messages can carry a fragment of the text ("Unexpected token 'n', \"nin=1234…\" is
 * not valid JSON"), and a body or file line may hold a NIN, BVN or account number.
 */
export function jsonSyntaxProblem(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : '';
  const at = /^(.*?) in JSON at position (\d+)/.exec(message);
  if (at) {
    const position = Number(at[2]);
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    const column = position - before.lastIndexOf('\n');
    // The grammar V8 names ("Expected ',' or '}' after property value"); a quoted fragment, never.
    const what = lowerFirst(at[1]!.replace(/"[^"]*"?/g, '').trim());
    return `is not valid JSON at line ${line}, column ${column}: ${what}`;
  }
  if (/Unexpected end of JSON input/.test(message))
    return 'is not valid JSON: it ends before the value is complete';
  return 'is not valid JSON: unexpected character';
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * The request body's bytes, or null past `maxBytes`. Under @hono/node-server the Node request
 * stream is read directly through its events: the web Request body (a Request, an AbortSignal and
 * a web stream per call) or an async iterator over the stream cost several times more than the
 * rest of a verification. Elsewhere (tests, other runtimes) the web body.
 */
async function readBody(c: Context, maxBytes: number): Promise<Buffer | null> {
  const incoming = nodeRequest(c);
  if (incoming && !incoming.readableEnded) return readNodeBody(incoming, maxBytes);
  const reader = c.req.raw.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks, size);
      size += value.byteLength;
      if (size > maxBytes) return null;
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Stopping early (too large) leaves the stream paused, not destroyed: the answer goes out on it.
 * A client that goes away mid-body gets null too; nothing will reach it anyway.
 */
function readNodeBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new NodeBodyRead(incoming, maxBytes).promise;
}

/**
 * One body read: its listeners are methods bound once, not closures made per request (under tsx
 * every closure also pays a name definition, a measurable share of a single verification).
 */
class NodeBodyRead {
  readonly promise: Promise<Buffer | null>;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private resolve: (body: Buffer | null) => void = noop;
  private reject: (err: Error) => void = noop;

  constructor(
    private readonly incoming: IncomingMessage,
    private readonly maxBytes: number,
  ) {
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onError = this.onError.bind(this);
    this.onClose = this.onClose.bind(this);
    this.promise = new Promise(this.start.bind(this));
  }

  private start(resolve: (body: Buffer | null) => void, reject: (err: Error) => void): void {
    this.resolve = resolve;
    this.reject = reject;
    this.incoming.on('data', this.onData);
    this.incoming.on('end', this.onEnd);
    this.incoming.on('error', this.onError);
    this.incoming.on('close', this.onClose);
  }

  private done(): void {
    this.incoming.off('data', this.onData);
    this.incoming.off('end', this.onEnd);
    this.incoming.off('error', this.onError);
    this.incoming.off('close', this.onClose);
  }

  private onData(chunk: Buffer): void {
    this.size += chunk.byteLength;
    if (this.size > this.maxBytes) {
      this.done();
      this.incoming.pause();
      this.resolve(null);
    } else this.chunks.push(chunk);
  }

  private onEnd(): void {
    this.done();
    this.resolve(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size));
  }

  private onError(err: Error): void {
    this.done();
    this.reject(err);
  }

  private onClose(): void {
    this.done();
    this.resolve(null);
  }
}

function noop(): void {}

function tooLarge(maxBytes: number): BodyResult {
  return {
    ok: false,
    code: 'PAYLOAD_TOO_LARGE',
    message: `request body exceeds ${maxBytes} bytes`,
  };
}
