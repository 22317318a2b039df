import { z } from '@hono/zod-openapi';

/** The pagination block of Okra-style responses (pagingCounter: 1-based position of the page's first document). */
export const OkraPaginationSchema = z
  .object({
    totalDocs: z.number().int(),
    limit: z.number().int(),
    hasPrevPage: z.boolean(),
    hasNextPage: z.boolean(),
    page: z.number().int(),
    totalPages: z.number().int(),
    pagingCounter: z.number().int(),
    prevPage: z.number().int().nullable(),
    nextPage: z.number().int().nullable(),
  })
  .openapi('OkraPagination');

/** The pagination block, computed from a total, a page and a limit by okraPagination. */
export type OkraPagination = z.infer<typeof OkraPaginationSchema>;

export const OKRA_DEFAULT_LIMIT = 20;
export const OKRA_MAX_LIMIT = 100;

export function okraPagination(totalDocs: number, page: number, limit: number): OkraPagination {
  const totalPages = Math.max(1, Math.ceil(totalDocs / limit));
  return {
    totalDocs,
    limit,
    hasPrevPage: page > 1,
    hasNextPage: page < totalPages,
    page,
    totalPages,
    pagingCounter: (page - 1) * limit + 1,
    prevPage: page > 1 ? page - 1 : null,
    nextPage: page < totalPages ? page + 1 : null,
  };
}

/** The page's slice of `items` and its pagination block. */
export function okraPage<T>(
  items: readonly T[],
  page: number,
  limit: number,
): { pagination: OkraPagination; items: T[] } {
  return {
    pagination: okraPagination(items.length, page, limit),
    items: items.slice((page - 1) * limit, page * limit),
  };
}
