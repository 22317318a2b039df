import { type IdentifierKind, tokenise } from '@hub/schemas';

/**
 * Tokenises with the hub's secret, remembering results: one number's identifiers recur in many
 * events, and an HMAC per event would dominate generation time.
 */
export function tokenCache(secret: string): (kind: IdentifierKind, raw: string) => string {
  const cache = new Map<string, string>();
  return (kind, raw) => {
    const key = `${kind}:${raw}`;
    let token = cache.get(key);
    if (token === undefined) {
      token = tokenise(kind, raw, secret);
      cache.set(key, token);
    }
    return token;
  };
}
