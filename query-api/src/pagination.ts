import type { FieldError } from '@hub/ingest';

/** The Reconix list envelope. */
export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

export type PageParams = { ok: true; skip: number; limit: number } | { ok: false; errors: FieldError[] };

/** `skip` ≥ 0 (default 0) and `limit` 1–100 (default 50); anything else is a 400 naming the field. */
export function pageParams(query: { skip?: string; limit?: string }): PageParams {
  const errors: FieldError[] = [];
  const parse = (name: 'skip' | 'limit', fallback: number, min: number, max: number): number => {
    const raw = query[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      errors.push({
        field: name,
        message: `must be an integer from ${min} to ${max}, got '${raw.slice(0, 20)}'`,
      });
      return fallback;
    }
    return Number(raw);
  };
  const skip = parse('skip', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = parse('limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, skip, limit };
}
