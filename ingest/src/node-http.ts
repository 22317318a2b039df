import { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

/**
 * Headers on the request path without the web Request/Response objects' cost. Under
 * @hono/node-server a request's web `Headers` is built (every header validated) on first use, and
 * every header a handler sets goes through another one before being copied to Node's response:
 * together more than the rest of a verification. These read Node's parsed request headers and
 * write straight to Node's response; elsewhere (tests, other runtimes) they use Hono's own.
 */

export function nodeRequest(c: Context): IncomingMessage | null {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage ? incoming : null;
}

export function nodeResponse(c: Context): ServerResponse | null {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ServerResponse && !outgoing.headersSent ? outgoing : null;
}

export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = nodeRequest(c);
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sets a header on the response, whichever response the handler ends up returning. A header the
 * returned response sets itself wins over one set here.
 */
export function responseHeader(c: Context, name: string, value: string): void {
  const outgoing = nodeResponse(c);
  if (outgoing) outgoing.setHeader(name, value);
  else c.header(name, value);
}
