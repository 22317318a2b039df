import { Agent, type Dispatcher, errors } from 'undici';

/**
 * One pool of keep-alive connections per origin (undici), up to `connections` each; the
 * dispatcher's per-endpoint concurrency is the real bound, this one only caps an origin shared by
 * several subscriptions. undici costs about half the CPU of node:http per request (measured in
 * the webhook bench), which at thousands of deliveries a second is most of a delivery's cost.
 */
const agent = new Agent({ connections: 256, keepAliveTimeout: 10_000, pipelining: 1 });

export class PostTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Enough bytes of an answer to hold its first `snippet` characters, whatever their UTF-8 length. */
const bytesFor = (snippet: number) => snippet * 4 + 4;

/**
 * The answer of one POST through undici's callback interface: status, then the start of the body
 * as bytes. No Readable stream, async iterator or promise per chunk (they were most of undici's
 * cost per delivery in the webhook bench's profile); undici still reads the body to its end, so
 * the connection is reused.
 */
class PostHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly snippet: number,
    private readonly timeoutMs: number,
    private readonly resolve: (r: { status: number; text: string }) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    // 1xx answers are informational; the final one follows.
    if (statusCode >= 200) this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.bytes < bytesFor(this.snippet)) {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
    }
    return true;
  }

  onComplete(): void {
    const text =
      this.chunks.length === 0
        ? ''
        : (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8');
    this.resolve({ status: this.status, text: text.slice(0, this.snippet) });
  }

  onError(err: Error): void {
    if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError)
      this.reject(new PostTimeoutError(`no answer within ${this.timeoutMs} ms`));
    else this.reject(err);
  }
}

/**
 * One POST; no redirects are followed. Resolves with the status and the first `snippet`
 * characters of the answer; rejects on a network error or when the answer's headers, or the
 * rest of its body, take longer than `timeoutMs`.
 */
export function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  snippet = 256,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    agent.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      new PostHandler(snippet, timeoutMs, resolve, reject),
    );
  });
}
