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
  const reader = c.req.raw.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        return tooLarge(maxBytes);
      }
      chunks.push(value);
    }
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

function tooLarge(maxBytes: number): BodyResult {
  return {
    ok: false,
    code: 'PAYLOAD_TOO_LARGE',
    message: `request body exceeds ${maxBytes} bytes`,
  };
}
