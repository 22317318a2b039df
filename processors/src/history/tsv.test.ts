import { describe, expect, it } from 'vitest';
import { TSV_NULL, tsvArray, tsvDateTime, tsvNullableString, tsvString, utcDate } from './tsv.ts';

describe('TabSeparated fields', () => {
  it('write a string as it is unless it holds a backslash, tab, newline or carriage return', () => {
    for (const s of ['', 'MTN', 'it\'s "quoted"', 'Ọ̀nà àti 🙂 ünïcödé', '[1,2]', 'nul\u0000byte', 'N']) {
      expect(tsvString(s)).toBe(s);
    }
    expect(tsvString('a\tb')).toBe('a\\tb');
    expect(tsvString('a\nb')).toBe('a\\nb');
    expect(tsvString('a\rb')).toBe('a\\rb');
    expect(tsvString('a\\b')).toBe('a\\\\b');
    expect(tsvString("mix '\t\n\\\r' end\\")).toBe("mix '\\t\\n\\\\\\r' end\\\\");
  });

  it('keep a string that reads \\N apart from NULL', () => {
    expect(tsvString('\\N')).toBe('\\\\N');
    expect(tsvNullableString('\\N')).toBe('\\\\N');
    expect(tsvNullableString(null)).toBe(TSV_NULL);
    expect(tsvNullableString(undefined)).toBe('\\N');
    expect(tsvNullableString('')).toBe('');
    expect(tsvNullableString('a\tb')).toBe('a\\tb');
  });

  it('never leave a raw tab or newline in a field', () => {
    const nasty = ['\t', '\n', '\r', '\\', "'", '\t\n\r\\\'"'];
    for (const s of nasty) {
      for (const field of [tsvString(s), tsvNullableString(s), tsvArray([s, s])]) {
        expect(field).not.toMatch(/[\t\n\r]/);
      }
    }
  });

  it('write an array as quoted elements in brackets, escaping quotes and backslashes inside', () => {
    expect(tsvArray([])).toBe('[]');
    expect(tsvArray(['STALE_LINKAGE'])).toBe("['STALE_LINKAGE']");
    expect(tsvArray(['2024-05-30', '1970-01-01'])).toBe("['2024-05-30','1970-01-01']");
    expect(tsvArray(["o'k", 'back\\slash', 'a\tb\nc\rd', 'ünï 🙂', ''])).toBe(
      "['o\\'k','back\\\\slash','a\\tb\\nc\\rd','ünï 🙂','']",
    );
  });

  it('write a DateTime as its UTC date and time of day, the same as toISOString', () => {
    const max = Math.floor(Date.UTC(2105, 11, 31, 23, 59, 59) / 1000);
    const times = [0, 1, 59, 60, 3599, 3600, 9_999, 10_000, 86_399, 86_400, 951_825_600, 1_717_198_207, max];
    for (const s of times) {
      expect(tsvDateTime(s)).toBe(new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' '));
    }
    expect(tsvDateTime(0)).toBe('1970-01-01 00:00:00');
    expect(tsvDateTime(max)).toBe('2105-12-31 23:59:59');
    expect(tsvDateTime(951_825_600)).toBe('2000-02-29 12:00:00');
  });

  it('date a time by its UTC day, from the cache the same as the first time', () => {
    for (let i = 0; i < 2; i++) {
      for (const s of [0, 86_399, 86_400, 951_782_399, 951_782_400]) {
        expect(utcDate(s)).toBe(new Date(s * 1000).toISOString().slice(0, 10));
      }
    }
  });
});
