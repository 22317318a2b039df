import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `hub_3f9a1c2e_<43 base64url characters>`: the first part is a non-secret
 * prefix that identifies the key in listings and logs, the rest 256 random bits. Only the SHA-256
 * of the whole key is kept: with that much entropy a fast hash is enough (no dictionary to try).
 */
const KEY_PATTERN = /^hub_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedKey {
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): GeneratedKey {
  const prefix = `hub_${randomBytes(4).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Keys seen recently and their hashes: a process sees few distinct keys, each many times a second. */
const recentHashes = new Map<string, string>();
const MAX_RECENT_HASHES = 10_000;

/** hashApiKey for the request path, remembered for keys seen before. */
export function requestKeyHash(key: string): string {
  let hash = recentHashes.get(key);
  if (hash === undefined) {
    hash = hashApiKey(key);
    if (recentHashes.size >= MAX_RECENT_HASHES) recentHashes.clear();
    recentHashes.set(key, hash);
  }
  return hash;
}

export function looksLikeApiKey(token: string): boolean {
  return KEY_PATTERN.test(token);
}

/** Compares two hex digests in constant time. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
