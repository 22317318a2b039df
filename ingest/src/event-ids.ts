import { createHash, randomUUID } from 'node:crypto';

/**
 * A UUID-shaped id derived from an event's content. An operator resending the same fact (same
 * number, status and dates) produces the same id, so history queries count it once.
 */
export function contentEventId(...parts: (string | null | undefined)[]): string {
  const h = createHash('sha256')
    .update(parts.map((p) => p ?? '').join('\u0000'))
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16] ?? '0', 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const newBatchId = (): string => randomUUID();
