import { quoteIdentifier } from '@hub/infra';
import { CONFLICT_CODES, type ConflictCode } from '@hub/state';
import { numberHistoryQuery, QueryInputError, sqlInteger, sqlString } from '@hub/state/history/queries';
import { LATEST_CONFLICTS_TABLE, RAW_TABLES, TOKEN_INDEX_TABLES } from '@hub/state/history/tables';

/**
 * SQL for the identity routes' ClickHouse reads. Values reach SQL only through the history
 * module's escaping helpers; tables come from its table constants; the one caller-chosen name
 * (a conflict code) is checked against the state model's list first.
 */

/** A number's NIN or BVN link/unlink events, oldest first, one row per event id. */
export function linkageEventsQuery(database: string, kind: 'NIN' | 'BVN', msisdn: string): string {
  return numberHistoryQuery(database, kind === 'NIN' ? 'nin-linkage' : 'bvn-linkage', msisdn, 1000);
}

export function isConflictCode(code: string): code is ConflictCode {
  return (CONFLICT_CODES as readonly string[]).includes(code);
}

/**
 * The condition, over the latest-conflicts table read FINAL (its newest row per number), that a
 * number's latest state has conflicts (including `code`, when given). The table holds only numbers
 * that have ever had a conflict, with their newest state, conflicted or not; FINAL keeps one row
 * per number, so a number whose newer state cleared its conflicts drops out, and a row stored twice
 * or not merged yet never shows twice. (WHERE, unlike PREWHERE, filters after FINAL.)
 */
function conflictedNow(code: ConflictCode | null): string {
  if (code !== null && !isConflictCode(code)) throw new QueryInputError(`unknown conflict code '${code}'`);
  return code === null ? 'notEmpty(latest_conflict_codes)' : `has(latest_conflict_codes, ${sqlString(code)})`;
}

/**
 * One page of conflicted numbers, ordered by number: the page's numbers are found over the few
 * columns the condition needs, then only their rows are read whole (the table is ordered by number).
 */
export function conflictsPageQuery(
  database: string,
  code: ConflictCode | null,
  skip: number,
  limit: number,
): string {
  const table = `${quoteIdentifier(database)}.${LATEST_CONFLICTS_TABLE}`;
  return `SELECT msisdn, latest_lifecycle_status AS lifecycle_status, latest_operator AS operator,
    latest_conflict_codes AS conflict_codes, latest_conflict_since AS conflict_since
FROM ${table} FINAL
WHERE msisdn IN (
  SELECT msisdn FROM ${table} FINAL WHERE ${conflictedNow(code)}
  ORDER BY msisdn
  LIMIT ${sqlInteger(skip)}, ${sqlInteger(limit)}
)
ORDER BY msisdn`;
}

export function conflictsCountQuery(database: string, code: ConflictCode | null): string {
  return `SELECT count() AS total FROM ${quoteIdentifier(database)}.${LATEST_CONFLICTS_TABLE} FINAL WHERE ${conflictedNow(code)}`;
}

/** The earliest status occurrence date the hub holds from each operator. */
export function earliestStatusByOperatorQuery(database: string): string {
  return `SELECT operator, toString(min(occurrence_date)) AS earliest
FROM ${quoteIdentifier(database)}.${RAW_TABLES['status-update']}
GROUP BY operator`;
}

export type TokenColumn = 'nin_token' | 'bvn_token' | 'nuban_token';

/** Each token's index table (ordered by that token) and the column of its masked identifier. */
const TOKEN_TABLES: Record<TokenColumn, { table: string; masked: string; bvn: boolean }> = {
  nin_token: { table: TOKEN_INDEX_TABLES.nin, masked: 'nin_masked', bvn: false },
  bvn_token: { table: TOKEN_INDEX_TABLES.bvn, masked: 'bvn_masked', bvn: true },
  nuban_token: { table: TOKEN_INDEX_TABLES.nuban, masked: 'bvn_masked', bvn: true },
};

/** Longest list of numbers one identifier lookup returns: far above any real person's lines. */
export const MAX_NUMBERS_PER_IDENTIFIER = 1000;

/**
 * The numbers an identifier token was ever linked to (by link/unlink events, deduplicated by
 * event id), with the first and last link dates seen, read from the token's index table so a
 * lookup reads that token's rows only. Whether each link is active now comes from
 * the live state, which also knows delink completions.
 */
export function numbersByTokenQuery(database: string, column: TokenColumn, token: string): string {
  if (!Object.hasOwn(TOKEN_TABLES, column)) throw new QueryInputError(`unknown token column '${column}'`);
  if (!/^[0-9a-f]{16}$/.test(token)) throw new QueryInputError('token must be 16 lowercase hex characters');
  const { table, masked, bvn } = TOKEN_TABLES[column];
  const bvnExtras = bvn
    ? ", any(bvn_token) AS bvn_token, groupUniqArray(ifNull(bank_code, '')) AS bank_codes, any(ifNull(nuban_masked, '')) AS nuban_masked"
    : '';
  return `SELECT msisdn, any(${masked}) AS masked, toString(min(link_date)) AS first_link_date,
    toString(max(link_date)) AS last_link_date${bvnExtras}
FROM (
  SELECT * FROM ${quoteIdentifier(database)}.${table}
  WHERE ${column} = ${sqlString(token)}
  ORDER BY occurred_at, kafka_topic, kafka_partition, kafka_offset
  LIMIT 1 BY event_id
)
GROUP BY msisdn
ORDER BY msisdn
LIMIT ${sqlInteger(MAX_NUMBERS_PER_IDENTIFIER)}`;
}
