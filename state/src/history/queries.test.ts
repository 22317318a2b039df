import { describe, expect, it } from 'vitest';
import { QueryInputError, rollupQuery, sqlDate, sqlDateTime, sqlInteger, sqlString } from './queries.ts';

/**
 * Reads one ClickHouse single-quoted literal from the start of `sql` the way the server's lexer
 * does, returning its value and where it ended; throws if the literal is unterminated.
 */
function readLiteral(sql: string): { value: string; end: number } {
  if (sql[0] !== "'") throw new Error('literal must start with a quote');
  let value = '';
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', '\\': '\\', "'": "'" };
  for (let i = 1; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'") return { value, end: i + 1 };
    if (ch === '\\') {
      const next = sql[i + 1]!;
      if (next === 'x') {
        value += String.fromCharCode(Number.parseInt(sql.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        value += simple[next] ?? next;
        i += 1;
      }
      continue;
    }
    value += ch;
  }
  throw new Error('unterminated literal');
}

const HOSTILE = [
  "O'Brien",
  "'; DROP TABLE status_events_v1; --",
  "\\'; SELECT 1; --",
  'back\\slash at the end\\',
  'nul\0byte',
  'line\nbreak\r\nand\ttab',
  '/* comment */ -- comment',
  "''''",
  '\\\\\\',
  'unicode ✓ Ọ̀yọ́ 😀',
  '\x7f\x01\x1f',
  '',
];

describe('sqlString', () => {
  it.each(HOSTILE)('round-trips %j as exactly one literal covering the whole output', (input) => {
    const sql = sqlString(input);
    const { value, end } = readLiteral(sql);
    expect(value).toBe(input);
    expect(end).toBe(sql.length);
  });

  it('leaves no control character, newline or NUL in the SQL text', () => {
    for (const input of HOSTILE) {
      const codes = [...sqlString(input)].map((c) => c.codePointAt(0)!);
      expect(codes.filter((c) => c < 0x20 || c === 0x7f)).toEqual([]);
    }
  });

  it('refuses a lone surrogate rather than letting it turn into U+FFFD', () => {
    expect(() => sqlString('a\uD800b')).toThrow(QueryInputError);
    expect(() => sqlString('\uDC00')).toThrow(/lone UTF-16 surrogate/);
  });

  it('refuses a value that is not a string', () => {
    expect(() => sqlString(42 as unknown as string)).toThrow(/expected a string, got number/);
  });
});

describe('sqlDate, sqlDateTime, sqlInteger', () => {
  it('accepts real dates and refuses anything else', () => {
    expect(sqlDate('2024-02-29')).toBe("toDate('2024-02-29')");
    expect(() => sqlDate('2023-02-29')).toThrow(/not a real calendar date/);
    expect(() => sqlDate("2024-01-01') OR 1=1 --")).toThrow(/YYYY-MM-DD/);
    expect(() => sqlDate('1969-12-31')).toThrow(/outside/);
  });

  it('formats epoch milliseconds as a UTC DateTime and refuses negatives', () => {
    expect(sqlDateTime(Date.UTC(2024, 4, 1, 13, 5, 9, 999))).toBe("toDateTime('2024-05-01 13:05:09', 'UTC')");
    expect(() => sqlDateTime(-1)).toThrow(QueryInputError);
    expect(() => sqlDateTime(1.5)).toThrow(QueryInputError);
  });

  it('accepts only non-negative integers that fit UInt64', () => {
    expect(sqlInteger(0)).toBe('0');
    expect(sqlInteger('18446744073709551615')).toBe('18446744073709551615');
    expect(() => sqlInteger('18446744073709551616')).toThrow(/UInt64/);
    expect(() => sqlInteger('1 OR 1=1')).toThrow(/non-negative integer/);
    expect(() => sqlInteger(-3)).toThrow(/non-negative integer/);
  });
});

describe('rollupQuery', () => {
  it('builds a daily series from whitelisted names and escaped values', () => {
    const sql = rollupQuery('hub', {
      dataset: 'statusEvents',
      granularity: 'day',
      from: '2024-05-01',
      to: '2024-05-31',
      groupBy: ['operator'],
      filters: { status: ["CHURNED' OR 1=1 --"] },
      metrics: ['events'],
    });
    expect(sql).toContain('FROM hub.status_events_daily_v1');
    expect(sql).toContain("status IN ('CHURNED\\' OR 1=1 --')");
    expect(sql).toContain('uniqMerge(events) AS events');
    expect(sql).toContain("day BETWEEN toDate('2024-05-01') AND toDate('2024-05-31')");
  });

  it('refuses a dimension, metric or dataset outside the whitelist', () => {
    const base = { granularity: 'hour', from: '2024-05-01', to: '2024-05-01' } as const;
    expect(() =>
      rollupQuery('hub', {
        ...base,
        dataset: 'statusEvents',
        groupBy: ['msisdn' as 'operator'],
        metrics: ['events'],
      }),
    ).toThrow(/unknown dimension 'msisdn' for statusEvents; allowed: operator, status/);
    expect(() =>
      rollupQuery('hub', { ...base, dataset: 'conflicts', metrics: ['events); DROP TABLE x' as 'events'] }),
    ).toThrow(/unknown metric/);
    expect(() =>
      rollupQuery('hub', { ...base, dataset: 'toString' as 'conflicts', metrics: ['events'] }),
    ).toThrow(/unknown dataset/);
    expect(() => rollupQuery('hub', { ...base, dataset: 'conflicts', metrics: [] })).toThrow(
      /at least one metric/,
    );
    expect(() =>
      rollupQuery('hub', {
        ...base,
        dataset: 'conflicts',
        from: '2024-06-01',
        to: '2024-05-01',
        metrics: ['events'],
      }),
    ).toThrow(/after/);
  });

  it('refuses a database name that is not a plain identifier', () => {
    expect(() =>
      rollupQuery('hub; DROP', {
        dataset: 'conflicts',
        granularity: 'day',
        from: '2024-05-01',
        to: '2024-05-01',
        metrics: ['events'],
      }),
    ).toThrow(/plain identifier/);
  });
});
