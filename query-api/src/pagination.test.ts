import { z } from '@hono/zod-openapi';
import { fieldErrorsOf } from '@hub/ingest';
import { describe, expect, it } from 'vitest';
import { PageQuery } from './pagination.ts';

const Query = z.object(PageQuery);

describe('page parameters', () => {
  it('defaults to skip 0 and limit 50', () => {
    expect(Query.parse({})).toEqual({ skip: 0, limit: 50 });
    expect(Query.parse({ skip: '', limit: '' })).toEqual({ skip: 0, limit: 50 });
  });

  it('accepts the bounds', () => {
    expect(Query.parse({ skip: '0', limit: '1' })).toEqual({ skip: 0, limit: 1 });
    expect(Query.parse({ skip: '150', limit: '100' })).toEqual({ skip: 150, limit: 100 });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ skip: '-1' }, 'skip'],
    [{ skip: '1.5' }, 'skip'],
    [{ limit: 'ten' }, 'limit'],
  ])('rejects %o naming %s', (query, field) => {
    const r = Query.safeParse(query);
    expect(r.success).toBe(false);
    if (!r.success) {
      const [error] = fieldErrorsOf(r.error.issues, 'query', query);
      expect(error?.field).toBe(field);
      expect(error?.message).toMatch(/^must be an integer from \d+ to \d+, got '/);
    }
  });
});
