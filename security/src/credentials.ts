import { type Authenticator, DependencyUnavailableError, type Principal } from '@hub/ingest';
import type { ApiKeyRecord, UserRecord } from './accounts.ts';
import { looksLikeApiKey, requestKeyHash, sameHash } from './api-keys.ts';
import type { AccessClaims, SessionManager } from './sessions.ts';
import type { AccountStore } from './store.ts';

/**
 * Credentials of an organisation cannot be checked right now (an account event for it could not
 * be read, so a revocation may be missing): its requests are refused with 503, never let through.
 */
export class AccountsUnavailableError extends DependencyUnavailableError {
  override readonly name = 'AccountsUnavailableError';

  constructor(organisation: string) {
    const detail = `credentials of organisation ${organisation} cannot be checked right now (an account change could not be read); retry later`;
    super('the accounts store', detail, { retryAfterSeconds: 30, clientDetail: detail });
  }
}

export function keyUsable(k: ApiKeyRecord, now: number): boolean {
  return k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now);
}

/**
 * Whether a session token (access or refresh) still speaks for its user: the user is active, has
 * not changed password since the token was issued (compared in milliseconds, the precision of
 * both), and still holds the role the token was issued with.
 */
export function sessionStillValid(
  user: Pick<UserRecord, 'active' | 'passwordChangedAt' | 'role'> | null,
  claims: Pick<AccessClaims, 'ims' | 'role'>,
): boolean {
  if (!user?.active) return false;
  if (user.passwordChangedAt > claims.ims) return false;
  return claims.role === '' || claims.role === user.role;
}

export interface CredentialsDeps {
  store: AccountStore;
  sessions: SessionManager;
  now: () => number;
  /** True while an organisation's account changes cannot all be read (fail closed). */
  unreadable: (organisation: string) => boolean;
}

/** `Authorization: Bearer <API key | access token>` to a principal: the request path's check. */
export class Credentials {
  constructor(private readonly d: CredentialsDeps) {}

  readonly authenticate: Authenticator = async (authorization) => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) return null;
    if (looksLikeApiKey(token)) return this.apiKeyPrincipal(token);
    if (token.split('.').length === 3) return this.sessionPrincipal(token);
    return null;
  };

  private async apiKeyPrincipal(key: string): Promise<Principal | null> {
    const hash = requestKeyHash(key);
    const record = await this.d.store.apiKeyByHash(hash);
    if (!record || !sameHash(record.hash, hash)) return null;
    if (this.d.unreadable(record.organisationId)) throw new AccountsUnavailableError(record.organisationId);
    if (!keyUsable(record, this.d.now())) return null;
    const org = await this.d.store.organisation(record.organisationId);
    if (!org?.active) return null;
    return {
      organisation: org.id,
      type: org.type,
      operatorCode: org.operatorCode,
      credentialId: record.id,
      ...(org.ranges.length > 0 ? { ranges: org.ranges } : {}),
    };
  }

  private async sessionPrincipal(token: string): Promise<Principal | null> {
    const claims = await this.d.sessions.verifyAccess(token);
    if (!claims) return null;
    const user = await this.d.store.user(claims.sub);
    const organisation = user?.organisationId ?? claims.org;
    if (this.d.unreadable(organisation)) throw new AccountsUnavailableError(organisation);
    if (!user || !sessionStillValid(user, claims)) return null;
    const org = await this.d.store.organisation(user.organisationId);
    if (!org?.active) return null;
    return {
      organisation: org.id,
      type: org.type,
      operatorCode: org.operatorCode,
      credentialId: `session:${claims.jti}`,
      roles: [user.role],
      userId: user.id,
      sessionId: claims.jti,
      ...(org.ranges.length > 0 ? { ranges: org.ranges } : {}),
    };
  }
}
