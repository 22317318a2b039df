import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { quoteIdentifier } from '@hub/infra';
import { dateToEpochMs } from '@hub/schemas';
import { QueryInputError, sqlDateTime, sqlInteger, sqlString } from '@hub/state/history/queries';
import {
  CUSTOMER_VERIFICATIONS_TABLE,
  IDENTITY_RECORDS_TABLE,
  RAW_TABLES,
  TOKEN_INDEX_TABLES,
} from '@hub/state/history/tables';

/**
 * Identity records: every identity the hub knows is one NIN token, and its record id (Okra's `id`)
 * is derived from the token alone, so every lookup that meets the token gives the same id without
 * a store of ids. The token is a keyed hash of the NIN, so the id reveals nothing of the NIN. The
 * same derivation runs in ClickHouse (migration 016, identity_records_v1): change neither alone.
 */
const RECORD_ID_PREFIX = 'hub-identity-record:';

/** 24 lowercase hex digits, the length of Okra's record ids. */
export const RECORD_ID = /^[0-9a-f]{24}$/;

export function identityRecordId(ninToken: string): string {
  return createHash('sha256').update(`${RECORD_ID_PREFIX}${ninToken}`).digest('hex').slice(0, 24);
}

/** Okra's bank ids are 24-hex-digit object ids; the hub takes CBN bank codes. */
export const OKRA_BANK_ID = /^[0-9a-f]{24}$/i;
const BANK_CODE = 'must be a CBN bank code of 3 to 6 digits';
export const OKRA_BANK_ID_MESSAGE =
  'is an Okra bank id; this hub takes CBN bank codes (e.g. 058 for GTBank), not Okra ids';

/** A CBN bank code; an Okra bank id gets its own message, saying which codes the hub takes. */
export const cbnBankCodeField = () =>
  z.string({ error: BANK_CODE }).superRefine((value, ctx) => {
    if (OKRA_BANK_ID.test(value)) ctx.addIssue({ code: 'custom', message: OKRA_BANK_ID_MESSAGE });
    else if (!/^\d{3,6}$/.test(value)) ctx.addIssue({ code: 'custom', message: BANK_CODE });
  });

/** The largest from..to range (inclusive days) the by-date operations answer. */
export const MAX_RANGE_DAYS = 92;

const CUSTOMER = 'must be text of 1 to 64 characters: letters, digits and . _ : -';

/**
 * A bank's own reference for its customer (Okra's customer id). Kept with the verification records
 * of the calling organisation only; it must not be personal data (no NIN, BVN or phone number).
 * Okra's customer-and-date example sends it as a number, so a whole number is taken as its digits.
 */
export const customerField = () =>
  z
    .union(
      [z.string({ error: CUSTOMER }), z.number({ error: CUSTOMER }).int({ error: CUSTOMER }).nonnegative()],
      {
        error: CUSTOMER,
      },
    )
    .transform((v) => String(v).trim())
    .pipe(
      // One rule, so a bad reference gets one message (not one per broken limit).
      z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, { error: CUSTOMER }),
    )
    .openapi({
      type: 'string',
      description:
        "The calling organisation's own customer reference (Okra's customer id): 1-64 letters, digits or . _ : -; never a NIN, BVN or phone number",
      example: '140afb3ddecee700130acbc4',
    });

/** A date range's problem, naming the field, or null when `from`..`to` is a range the hub answers. */
export function dayRangeProblem(
  from: string,
  to: string,
  maxDays = MAX_RANGE_DAYS,
): { field: 'from' | 'to'; message: string } | null {
  if (from > to) return { field: 'from', message: `'${from}' is after to '${to}'` };
  const days = Math.round((dateToEpochMs(to) - dateToEpochMs(from)) / 86_400_000) + 1;
  if (days > maxDays)
    return { field: 'to', message: `the range covers ${days} days; at most ${maxDays} days per request` };
  return null;
}

/** Lagos is UTC+1 all year: a Lagos calendar day starts at 23:00 UTC the day before. */
const LAGOS_OFFSET_MS = 60 * 60 * 1000;

/** [start, end) epoch ms of the Lagos days from..to inclusive. */
export function lagosDayBounds(from: string, to: string): { start: number; end: number } {
  return {
    // 1970-01-01 in Lagos starts an hour before the epoch, where nothing was seen.
    start: Math.max(0, dateToEpochMs(from) - LAGOS_OFFSET_MS),
    end: dateToEpochMs(to) + 86_400_000 - LAGOS_OFFSET_MS,
  };
}

const db = (database: string) => quoteIdentifier(database);

function checkRecordId(id: string): void {
  if (!RECORD_ID.test(id)) throw new QueryInputError('record id must be 24 lowercase hex characters');
}

function checkToken(token: string): void {
  if (!/^[0-9a-f]{16}$/.test(token)) throw new QueryInputError('token must be 16 lowercase hex characters');
}

const IDENTITY_COLUMNS = `record_id, nin_token, anyMerge(nin_masked) AS masked,
    toUnixTimestamp(minMerge(first_seen)) AS seen`;

/** The identity records with these ids (record id, NIN token, masked NIN, first seen, epoch seconds). */
export function identityRecordsQuery(database: string, ids: readonly string[]): string {
  if (ids.length === 0) throw new QueryInputError('identityRecordsQuery needs at least one id');
  for (const id of ids) checkRecordId(id);
  return `SELECT ${IDENTITY_COLUMNS}
FROM ${db(database)}.${IDENTITY_RECORDS_TABLE}
WHERE record_id IN (${ids.map(sqlString).join(', ')})
GROUP BY record_id, nin_token
ORDER BY record_id`;
}

const firstSeenIn = (start: number, end: number) =>
  `seen >= toUnixTimestamp(${sqlDateTime(start)}) AND seen < toUnixTimestamp(${sqlDateTime(end)})`;

/** One page of the identities first seen in [start, end), newest first. */
export function identitiesFirstSeenQuery(
  database: string,
  start: number,
  end: number,
  skip: number,
  limit: number,
): string {
  return `SELECT ${IDENTITY_COLUMNS}
FROM ${db(database)}.${IDENTITY_RECORDS_TABLE}
GROUP BY record_id, nin_token
HAVING ${firstSeenIn(start, end)}
ORDER BY seen DESC, record_id
LIMIT ${sqlInteger(skip)}, ${sqlInteger(limit)}`;
}

export function identitiesFirstSeenCountQuery(database: string, start: number, end: number): string {
  return `SELECT count() AS total FROM (
  SELECT ${IDENTITY_COLUMNS}
  FROM ${db(database)}.${IDENTITY_RECORDS_TABLE}
  GROUP BY record_id, nin_token
  HAVING ${firstSeenIn(start, end)}
)`;
}

/**
 * The numbers each NIN token was ever linked to (one row per token and number, events deduplicated
 * by event id), from the token index: the linkages of a page of identities in one read.
 */
export function numbersOfNinTokensQuery(database: string, tokens: readonly string[]): string {
  if (tokens.length === 0) throw new QueryInputError('numbersOfNinTokensQuery needs at least one token');
  for (const t of tokens) checkToken(t);
  return `SELECT nin_token, msisdn, any(nin_masked) AS masked, toString(min(link_date)) AS first_link_date,
    toString(max(link_date)) AS last_link_date
FROM (
  SELECT * FROM ${db(database)}.${TOKEN_INDEX_TABLES.nin}
  WHERE nin_token IN (${tokens.map(sqlString).join(', ')})
  LIMIT 1 BY event_id
)
GROUP BY nin_token, msisdn
ORDER BY nin_token, msisdn
LIMIT 10000`;
}

/** Most numbers one customer's answer lists. */
export const MAX_NUMBERS_PER_CUSTOMER = 1000;

/**
 * The numbers an organisation verified or looked up for one of its customers, with when (epoch
 * seconds) and how, one row per number; records deduplicated by event id.
 */
export function customerNumbersQuery(database: string, organisation: string, customer: string): string {
  return `SELECT msisdn, toUnixTimestamp(min(occurred_at)) AS first_at, toUnixTimestamp(max(occurred_at)) AS last_at,
    count() AS calls, groupUniqArray(toString(channel)) AS channels
FROM (
  SELECT * FROM ${db(database)}.${CUSTOMER_VERIFICATIONS_TABLE}
  WHERE organisation = ${sqlString(organisation)} AND customer = ${sqlString(customer)} AND msisdn != ''
  LIMIT 1 BY event_id
)
GROUP BY msisdn
ORDER BY msisdn
LIMIT ${sqlInteger(MAX_NUMBERS_PER_CUSTOMER)}`;
}

/** The NIN tokens NIBSS gave as the holder of a BVN token on BVN linkage events of these numbers. */
export function holderNinTokensQuery(database: string, bvnToken: string, msisdns: readonly string[]): string {
  checkToken(bvnToken);
  if (msisdns.length === 0) throw new QueryInputError('holderNinTokensQuery needs at least one number');
  return `SELECT DISTINCT holder_nin_token AS token
FROM ${db(database)}.${RAW_TABLES['bvn-linkage']}
WHERE msisdn IN (${msisdns.map(sqlString).join(', ')}) AND bvn_token = ${sqlString(bvnToken)}
  AND isNotNull(holder_nin_token) AND holder_nin_token != ''
LIMIT 10`;
}
