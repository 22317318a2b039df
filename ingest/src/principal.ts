import { createHash, timingSafeEqual } from 'node:crypto';

export type OrganisationType = 'OPERATOR' | 'SERVICE_PROVIDER' | 'IDENTITY_SOURCE' | 'HUB';

/** Who is calling: resolved from an API key (machines) or a session (people). */
export interface Principal {
  organisation: string;
  type: OrganisationType;
  /** For operators: the operator code whose number ranges they may update. */
  operatorCode: string | null;
  /** Non-secret identifier of the credential used, for audit and logs. */
  credentialId: string;
}

/** Resolves the `Authorization` header to a principal, or null when it is missing or not valid. */
export type Authenticator = (authorization: string | undefined) => Promise<Principal | null>;

export interface StaticApiKey {
  key: string;
  principal: Principal;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * API keys from configuration, compared in constant time by their hashes. This is the one place
 * the security layer replaces with keys issued and revoked through the accounts topic.
 */
export function staticApiKeyAuthenticator(keys: StaticApiKey[]): Authenticator {
  const hashed = keys.map((k) => ({ hash: sha256(k.key), principal: k.principal }));
  return async (authorization) => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1]) return null;
    const candidate = sha256(match[1]);
    let found: Principal | null = null;
    for (const k of hashed) if (timingSafeEqual(k.hash, candidate)) found = k.principal;
    return found;
  };
}
