import type { AuditEntry, Principal } from '@hub/ingest';
import type { UserRecord } from './accounts.ts';
import type { AuditLog } from './audit.ts';
import { sessionStillValid } from './credentials.ts';
import type { Lockout } from './lockout.ts';
import type { RequestMeta } from './middleware.ts';
import { verifyPassword } from './passwords.ts';
import type { RatePolicy } from './rate-policy.ts';
import type { SessionManager, TokenPair } from './sessions.ts';
import type { AccountStore } from './store.ts';

export type LoginResult =
  | { ok: true; tokens: TokenPair; user: UserRecord }
  | { ok: false; status: 401 }
  | { ok: false; status: 423 | 429; retryAfterSeconds: number; message?: string };

export interface SignInDeps {
  store: AccountStore;
  sessions: SessionManager;
  lockout: Lockout;
  policy: RatePolicy;
  audit: AuditLog;
  /** The audit trail's name for an e-mail address (emailPseudonym). */
  pseudonym: (email: string) => string;
}

/** People's sessions: login (with lockout and a per-account limit), refresh rotation, logout. */
export class SignIn {
  constructor(private readonly d: SignInDeps) {}

  async login(emailInput: string, password: string, meta: RequestMeta): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase();
    const entry = (
      outcome: AuditEntry['outcome'],
      details: Record<string, unknown>,
      user?: UserRecord | null,
    ) =>
      this.d.audit.record({
        actor: user ? `user:${user.id}` : this.d.pseudonym(email),
        organisation: user?.organisationId ?? null,
        action: 'LOGIN',
        target: this.d.pseudonym(email),
        outcome,
        details,
        ...meta,
      });
    const lockedMs = await this.d.lockout.lockedForMs(email);
    if (lockedMs > 0) {
      entry('DENIED', { reason: 'account locked' });
      return { ok: false, status: 423, retryAfterSeconds: Math.ceil(lockedMs / 1000) };
    }
    // Counted per account whatever the address: many addresses cannot share out guesses at one.
    const refused = await this.d.policy.account('login', email);
    if (refused) {
      entry('DENIED', { reason: 'too many attempts for this account' });
      return { ok: false, status: 429, ...refused };
    }
    const user = await this.d.store.userByEmail(email);
    const org = user ? await this.d.store.organisation(user.organisationId) : null;
    const valid = await verifyPassword(user?.passwordHash || null, password);
    if (!valid || !user?.active || !org?.active) {
      const { failures, locked } = await this.d.lockout.fail(email);
      if (locked)
        this.d.audit.record({
          actor: this.d.pseudonym(email),
          organisation: user?.organisationId ?? null,
          action: 'ACCOUNT_LOCKED',
          target: this.d.pseudonym(email),
          outcome: 'SUCCESS',
          details: { failures, lockSeconds: this.d.lockout.policy.lockMs / 1000 },
          ...meta,
        });
      entry('FAILURE', { reason: 'bad credentials', failures }, user);
      return { ok: false, status: 401 };
    }
    await this.d.lockout.clear(email);
    const tokens = await this.d.sessions.issue(user);
    entry('SUCCESS', {}, user);
    return { ok: true, tokens, user };
  }

  /**
   * A new token pair for a refresh token, if its session still stands: not used before, not
   * logged out, and issued after the user's last password change, role change or disabling.
   */
  async refresh(refreshToken: string, meta: RequestMeta): Promise<TokenPair | null> {
    const result = await this.d.sessions.rotate(refreshToken, async (claims) => {
      const user = await this.d.store.user(claims.sub);
      return user && sessionStillValid(user, claims) ? user : null;
    });
    if (result.ok) return result.tokens;
    if (result.reason === 'REUSED') {
      this.d.audit.record({
        actor: `user:${result.userId}`,
        organisation: null,
        action: 'REFRESH_TOKEN_REUSED',
        target: `family:${result.family}`,
        outcome: 'DENIED',
        details: { effect: 'every token of the session family revoked' },
        ...meta,
      });
    }
    return null;
  }

  async logout(
    principal: Principal,
    accessToken: string,
    meta: RequestMeta,
    refreshToken?: string,
  ): Promise<boolean> {
    const claims = await this.d.sessions.verifyAccess(accessToken);
    if (!claims) return false;
    await this.d.sessions.revoke(claims);
    if (refreshToken) await this.d.sessions.revokeRefreshOf(claims.sub, refreshToken);
    this.d.audit.record({
      actor: `user:${claims.sub}`,
      organisation: principal.organisation,
      action: 'LOGOUT',
      target: `session:${claims.jti}`,
      outcome: 'SUCCESS',
      ...meta,
    });
    return true;
  }
}
