import { RAW_TABLES, ROLLUP_TABLES, TOKEN_INDEX_TABLES } from '@hub/state/history/tables';
import { describe, expect, it } from 'vitest';
import { firstKeptMonth, TABLE_RETENTION_MONTHS } from './retention.ts';

describe('retention', () => {
  it('keeps the current month and the months before it, across year ends', () => {
    expect(firstKeptMonth(Date.UTC(2026, 11, 1), 1)).toBe(202612);
    expect(firstKeptMonth(Date.UTC(2026, 11, 1), 12)).toBe(202601);
    expect(firstKeptMonth(Date.UTC(2026, 0, 31), 2)).toBe(202512);
    expect(firstKeptMonth(Date.UTC(2026, 2, 15), 84)).toBe(201904);
  });

  it('has a retention for every raw, token-index and rollup table', () => {
    for (const table of [
      ...Object.values(RAW_TABLES),
      ...Object.values(TOKEN_INDEX_TABLES),
      ...Object.values(ROLLUP_TABLES),
    ]) {
      expect(TABLE_RETENTION_MONTHS[table], table).toBeGreaterThan(0);
    }
  });
});
