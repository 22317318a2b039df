import { z } from '@hono/zod-openapi';
import { type FieldError, fieldErrorsOf } from '@hub/ingest';

/** The Reconix list envelope. */
export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;

/** A whole-number query parameter from `min` to `max`, `fallback` when absent or empty. */
const intParam = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
        ctx.addIssue({
          code: 'custom',
          message: `must be an integer from ${min} to ${max}, got '${raw.slice(0, 20)}'`,
        });
        return z.NEVER;
      }
      return Number(raw);
    });

/**
 * `skip` ≥ 0 (default 0) and `limit` 1–100 (default 50); anything else is a 400 naming the field.
 * Spread into a route's query schema: `query: z.object({ ...PageQuery, … })`.
 */
export const PageQuery = {
  skip: intParam(0, Number.MAX_SAFE_INTEGER, 0).openapi({
    description: 'Items to skip; default 0',
    example: '0',
  }),
  limit: intParam(1, MAX_LIMIT, DEFAULT_LIMIT).openapi({
    description: `Items per page, 1–${MAX_LIMIT}; default ${DEFAULT_LIMIT}`,
    example: String(DEFAULT_LIMIT),
  }),
};

/** The Reconix page envelope of `item`, for a route's response. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int(),
    skip: z.number().int(),
    limit: z.number().int(),
  });

const PageQuerySchema = z.object(PageQuery);

export type PageParams = { ok: true; skip: number; limit: number } | { ok: false; errors: FieldError[] };

/** The page parameters of a route not yet declared with `PageQuery` in its query schema. */
export function pageParams(query: { skip?: string; limit?: string }): PageParams {
  const result = PageQuerySchema.safeParse({ skip: query.skip, limit: query.limit });
  return result.success
    ? { ok: true, ...result.data }
    : { ok: false, errors: fieldErrorsOf(result.error.issues, 'query', query) };
}
