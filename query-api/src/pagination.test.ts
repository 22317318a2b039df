import { describe, expect, it } from 'vitest';
import { pageParams } from './pagination.ts';

describe('page parameters', () => {
  it('defaults to skip 0 and limit 50', () => {
    expect(pageParams({})).toEqual({ ok: true, skip: 0, limit: 50 });
  });

  it('accepts the bounds', () => {
    expect(pageParams({ skip: '0', limit: '1' })).toEqual({ ok: true, skip: 0, limit: 1 });
    expect(pageParams({ skip: '150', limit: '100' })).toEqual({ ok: true, skip: 150, limit: 100 });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ skip: '-1' }, 'skip'],
    [{ skip: '1.5' }, 'skip'],
    [{ limit: 'ten' }, 'limit'],
  ])('rejects %o naming %s', (query, field) => {
    const r = pageParams(query);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.field).toBe(field);
  });
});
