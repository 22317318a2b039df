import { describe, expect, it } from 'vitest';
import { okraPagination } from './okra.ts';
import { conflictsCountQuery, conflictsPageQuery, numbersByTokenQuery } from './sql.ts';

describe('identity SQL', () => {
  it('filters conflicts by a whitelisted code, escaped', () => {
    const sql = conflictsPageQuery('hub', 'STALE_LINKAGE', 10, 50);
    expect(sql).toContain("has(latest_conflict_codes, 'STALE_LINKAGE')");
    expect(sql).toContain('LIMIT 10, 50');
    expect(sql).toContain('FINAL');
  });

  it('reads conflicts from the latest-conflicts table, never the state-change history', () => {
    for (const sql of [conflictsPageQuery('hub', null, 0, 50), conflictsCountQuery('hub', 'STALE_LINKAGE')]) {
      expect(sql).toContain('`hub`.latest_conflicts_v1');
      expect(sql).not.toContain('state_changes_v1');
      expect(sql).not.toContain('latest_states_v1');
    }
  });

  it('refuses a code outside the whitelist', () => {
    expect(() => conflictsCountQuery('hub', "X') OR 1=1 --" as 'STALE_LINKAGE')).toThrow(
      /unknown conflict code/,
    );
  });

  it('refuses anything but a token when looking numbers up by identifier', () => {
    expect(() => numbersByTokenQuery('hub', 'nin_token', "' OR 1=1")).toThrow(/token/);
    expect(numbersByTokenQuery('hub', 'nuban_token', '0123456789abcdef')).toContain(
      "nuban_token = '0123456789abcdef'",
    );
    // Token-ordered index tables, not the number-ordered raw tables.
    expect(numbersByTokenQuery('hub', 'nin_token', '0123456789abcdef')).toContain(
      '`hub`.nin_links_by_token_v1',
    );
    expect(numbersByTokenQuery('hub', 'bvn_token', '0123456789abcdef')).toContain(
      '`hub`.bvn_links_by_token_v1',
    );
    expect(numbersByTokenQuery('hub', 'nuban_token', '0123456789abcdef')).toContain(
      '`hub`.nuban_links_by_token_v1',
    );
  });
});

describe('Okra pagination block', () => {
  it('describes a middle page', () => {
    expect(okraPagination(45, 2, 20)).toEqual({
      totalDocs: 45,
      limit: 20,
      hasPrevPage: true,
      hasNextPage: true,
      page: 2,
      totalPages: 3,
      pagingCounter: 21,
      prevPage: 1,
      nextPage: 3,
    });
  });

  it('describes an empty result as one empty page', () => {
    expect(okraPagination(0, 1, 20)).toMatchObject({ totalPages: 1, hasNextPage: false, prevPage: null });
  });
});
