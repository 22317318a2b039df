/**
 * Values as ClickHouse's TabSeparated input reads them, the same on 18.16 and on current
 * releases: one row per line, fields separated by tabs, written straight into the line without a
 * row object or JSON. A String field escapes the four characters that would end or break it
 * (backslash, tab, newline, carriage return) as `\\`, `\t`, `\n`, `\r`; every other character,
 * quotes and non-ASCII included, is written as it is (UTF-8 on the wire). NULL is `\N`, which a
 * string cannot produce, as its backslash is escaped. An Array is ClickHouse's text form
 * `['a','b']`, its elements quoted strings (`\'` and `\\`, with tab, newline and carriage return
 * escaped too). Date is `YYYY-MM-DD`; DateTime is `YYYY-MM-DD hh:mm:ss`, which ClickHouse reads in
 * the column's own time zone (every DateTime column of the raw tables is DateTime('UTC')).
 */

/** The characters a TabSeparated String field escapes. */
const TSV_SPECIAL = /[\t\n\r\\]/;
const TSV_SPECIAL_ALL = /[\t\n\r\\]/g;
/** The same and the quote, for a quoted string (an Array element). */
const QUOTED_SPECIAL = /[\t\n\r\\']/;
const QUOTED_SPECIAL_ALL = /[\t\n\r\\']/g;

function escapeChar(c: string): string {
  switch (c) {
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\\':
      return '\\\\';
    default:
      return `\\${c}`;
  }
}

/** NULL in a Nullable column. */
export const TSV_NULL = '\\N';

/** A String column's field. */
export function tsvString(value: string): string {
  return TSV_SPECIAL.test(value) ? value.replace(TSV_SPECIAL_ALL, escapeChar) : value;
}

/** A Nullable(String) column's field: null (or an absent value) is NULL. */
export function tsvNullableString(value: string | null | undefined): string {
  return value === null || value === undefined ? TSV_NULL : tsvString(value);
}

/** One element of an Array(String) or Array(Date) field: a quoted string. */
function quoted(value: string): string {
  return QUOTED_SPECIAL.test(value) ? `'${value.replace(QUOTED_SPECIAL_ALL, escapeChar)}'` : `'${value}'`;
}

/** An Array(String) or Array(Date) column's field (dates as YYYY-MM-DD strings). */
export function tsvArray(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let out = `[${quoted(values[0]!)}`;
  for (let i = 1; i < values.length; i++) out += `,${quoted(values[i]!)}`;
  return `${out}]`;
}

/** Zero-padded two digits, 00..59. */
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

const SECONDS_PER_DAY = 86_400;
/** YYYY-MM-DD by UTC day number: formatted once per day, not per row (~50 k days in 1970..2105). */
const utcDates = new Map<number, string>();

/** The UTC date (YYYY-MM-DD) of whole epoch seconds from 0 (the caller checks the range). */
export function utcDate(seconds: number): string {
  const day = Math.floor(seconds / SECONDS_PER_DAY);
  let date = utcDates.get(day);
  if (date === undefined) {
    date = new Date(day * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
    utcDates.set(day, date);
  }
  return date;
}

/** A DateTime('UTC') field of whole epoch seconds from 0: `YYYY-MM-DD hh:mm:ss` in UTC. */
export function tsvDateTime(seconds: number): string {
  const inDay = seconds % SECONDS_PER_DAY;
  const hours = Math.floor(inDay / 3600);
  const minutes = Math.floor((inDay % 3600) / 60);
  return `${utcDate(seconds)} ${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[inDay % 60]}`;
}
