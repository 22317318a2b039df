import { Agent, errors } from 'undici';

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

/**
 * One POST; no redirects are followed. Resolves with the status and the first `snippet`
 * characters of the answer; rejects on a network error or when the answer's headers, or the
 * rest of its body, take longer than `timeoutMs`.
 */
export async function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  snippet = 256,
): Promise<{ status: number; text: string }> {
  try {
    const res = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    let text = '';
    res.body.setEncoding('utf8');
    // Read to the end (so the connection is reused), keeping only the start.
    for await (const chunk of res.body as AsyncIterable<string>) if (text.length < snippet) text += chunk;
    return { status: res.statusCode, text: text.slice(0, snippet) };
  } catch (err) {
    if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError)
      throw new PostTimeoutError(`no answer within ${timeoutMs} ms`);
    throw err;
  }
}
