import { describe, expect, it } from 'vitest';
import { _testing, maskIdentifiers } from './file-ingest.ts';

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

describe('the rejected-rows report', () => {
  it('masks NIN, BVN and NUBAN fields to their last four digits and leaves the rest as sent', () => {
    expect(
      maskIdentifiers({
        msisdn: '08031234567',
        nin: '12345678901',
        bvn: '22123456789',
        holderNin: '10987654321',
        holder_nin: 10987654321,
        nuban: '0123456789',
        openingDate: '2024-13-01',
        date: '2024-13-01',
      }),
    ).toEqual({
      msisdn: '08031234567',
      nin: '*******8901',
      bvn: '*******6789',
      holderNin: '*******4321',
      holder_nin: '*******4321',
      nuban: '******6789',
      openingDate: '2024-13-01',
      date: '2024-13-01',
    });
  });

  it('reports a bad NDJSON line or CSV row without quoting any of it', async () => {
    const [ndjson] = await collect('nin=12345678901\n', 'ndjson');
    expect(ndjson?.error).toMatch(/^line is not valid JSON/);
    expect(ndjson?.error).not.toContain('12345678901');
    const csv = await collect('msisdn,nin\n08031234567,12345678901"\n08031234568,x"22123456789"\n', 'csv');
    const errors = csv.flatMap((r) => (r.error ? [r.error] : []));
    expect(new Set(errors.map((e) => /^CSV line (\d+)/.exec(e)?.[1]))).toEqual(new Set(['2', '3']));
    for (const e of errors) {
      expect(e).toMatch(/^CSV line \d+ skipped: /);
      expect(e).not.toMatch(/12345678901|22123456789/);
    }
  });
});
