/**
 * Redis key shapes of the state projection, in one place so the state builder, the rebuild tool and
 * the query API read and write the same records.
 *
 * Records live in hashes of 100 numbers: key `<prefix>st:<first 11 digits of the MSISDN>`, field =
 * its last 2 digits. Small hashes are stored as listpacks, so a bucket costs a fraction of one key
 * per number, and each bucket key (one Redis Cluster slot) is touched atomically by one script.
 */

const MSISDN_RE = /^234\d{10}$/;

export interface StateSlot {
  key: string;
  field: string;
}

export function stateKeyPrefix(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}st:`;
}

/** SCAN pattern matching every state bucket under a prefix (glob metacharacters escaped). */
export function stateKeyPattern(redisKeyPrefix: string): string {
  return `${stateKeyPrefix(redisKeyPrefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
}

export function stateSlot(redisKeyPrefix: string, msisdn: string): StateSlot {
  if (!MSISDN_RE.test(msisdn)) throw new Error(`'${msisdn}' is not a canonical 13-digit MSISDN`);
  return { key: `${stateKeyPrefix(redisKeyPrefix)}${msisdn.slice(0, 11)}`, field: msisdn.slice(11) };
}

/** Inverse of stateSlot: the MSISDN a bucket key and field stand for. */
export function msisdnOfSlot(redisKeyPrefix: string, key: string, field: string): string {
  const head = stateKeyPrefix(redisKeyPrefix);
  const msisdn = `${key.startsWith(head) ? key.slice(head.length) : ''}${field}`;
  if (!MSISDN_RE.test(msisdn))
    throw new Error(`'${key}' / '${field}' is not a state slot under '${redisKeyPrefix}'`);
  return msisdn;
}

/**
 * Present while the projection under a prefix is being rebuilt (dropped and replayed): readers answer
 * "unavailable" rather than mistake a not-yet-replayed number for an unknown one. Deliberately no
 * expiry: a rebuild that dies half-way leaves an incomplete projection, which must not be served.
 */
export function rebuildingKey(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}st-rebuilding`;
}
