import { describe, expect, it } from 'vitest';
import { _testing } from './file-ingest.ts';

async function collect(text: string, format: 'csv' | 'ndjson') {
  const out = [];
  for await (const row of _testing.records(text, format)) out.push(row);
  return out;
}

describe('file records', () => {
  it('reads NDJSON line by line and reports a bad line without stopping', async () => {
    const rows = await collect('{"a":1}\n\n{oops\n{"b":2}\n', 'ndjson');
    expect(rows).toEqual([
      { line: 1, record: { a: 1 } },
      { line: 3, record: null, error: expect.stringContaining('not valid JSON') },
      { line: 4, record: { b: 2 } },
    ]);
  });

  it('reads CSV with a header, drops empty cells and handles quotes', async () => {
    const rows = await collect(
      'phoneNumber,status,remarks\n08031234567,NORMAL,\n08031234568,SWAPPED,"lost, then replaced"\n',
      'csv',
    );
    expect(rows.map((r) => r.record)).toEqual([
      { phoneNumber: '08031234567', status: 'NORMAL' },
      { phoneNumber: '08031234568', status: 'SWAPPED', remarks: 'lost, then replaced' },
    ]);
  });

  it('reports a CSV row with the wrong number of columns and keeps going', async () => {
    const rows = await collect('phoneNumber,status\n08031234567,NORMAL,extra\n08031234568,SWAPPED\n', 'csv');
    expect(rows.some((r) => r.error?.includes('skipped'))).toBe(true);
    expect(rows.filter((r) => r.record).map((r) => r.record)).toEqual([
      { phoneNumber: '08031234568', status: 'SWAPPED' },
    ]);
  });
});
