import { createHash, randomInt } from 'node:crypto';
import type { Principal } from '@hub/ingest';
import type { Redis } from 'ioredis';
import type { UserRecord } from './accounts.ts';
import type { AuditLog } from './audit.ts';
import type { SecurityKeys } from './keys.ts';
import type { Lockout } from './lockout.ts';
import type { RequestMeta } from './middleware.ts';
import type { Notifier } from './notifications.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import type { AccountsPublisher } from './publisher.ts';
import type { RatePolicy } from './rate-policy.ts';
import type { SessionManager } from './sessions.ts';
import type { AccountStore } from './store.ts';

export const RESET_CODE_TTL_SECONDS = 3600;

export interface PasswordDeps {
  redis: Redis;
  keys: SecurityKeys;
  store: AccountStore;
  publisher: AccountsPublisher;
  sessions: SessionManager;
  lockout: Lockout;
  policy: RatePolicy;
  audit: AuditLog;
  /** The audit trail's name for an e-mail address (emailPseudonym). */
  pseudonym: (email: string) => string;
  notify: Notifier;
  now: () => number;
}

export type PasswordChangeResult = 'OK' | 'WRONG_PASSWORD' | 'NOT_A_PERSON' | { problem: string };

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Forgotten passwords (single-use codes through the outbox) and changes by the signed-in person. */
export class Passwords {
  constructor(private readonly d: PasswordDeps) {}

  /**
   * Sends a single-use reset code to the account's address; says nothing about whether it exists.
   * False when the account has had too many requests this window (nothing is sent).
   */
  async forgot(
    emailInput: string,
    meta: RequestMeta,
  ): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number; message: string }> {
    const email = emailInput.trim().toLowerCase();
    const refused = await this.d.policy.account('forget', email);
    if (refused) return { ok: false, ...refused };
    const user = await this.d.store.userByEmail(email);
    this.d.audit.record({
      actor: this.d.pseudonym(email),
      organisation: user?.organisationId ?? null,
      action: 'PASSWORD_RESET_REQUESTED',
      target: this.d.pseudonym(email),
      outcome: user?.active ? 'SUCCESS' : 'FAILURE',
      ...meta,
    });
    if (!user?.active) return { ok: true };
    const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
    await this.d.redis.set(this.d.keys.resetCode(sha256(code)), user.id, 'EX', RESET_CODE_TTL_SECONDS);
    await this.d.notify({
      to: user.email,
      subject: 'Your password reset code',
      body: `Your reset code is ${code}. It expires in ${RESET_CODE_TTL_SECONDS / 60} minutes and works once.`,
      data: { resetCode: code },
    });
    return { ok: true };
  }

  /** Sets a new password with a reset code (used up either way); ends every session of the account. */
  async reset(code: string, password: string, meta: RequestMeta): Promise<'OK' | 'INVALID_CODE' | string> {
    const problem = passwordProblem(password);
    if (problem) return problem;
    const key = this.d.keys.resetCode(sha256(code));
    const [[, userId]] = (await this.d.redis.multi().get(key).del(key).exec()) as [
      [Error | null, string | null],
    ];
    const user = userId ? await this.d.store.user(userId) : null;
    if (!user) {
      this.d.audit.record({
        actor: 'anonymous',
        organisation: null,
        action: 'PASSWORD_RESET',
        outcome: 'FAILURE',
        details: { reason: 'unknown, used or expired code' },
        ...meta,
      });
      return 'INVALID_CODE';
    }
    await this.setPassword(user, password);
    this.d.audit.record({
      actor: `user:${user.id}`,
      organisation: user.organisationId,
      action: 'PASSWORD_RESET',
      target: `user:${user.id}`,
      outcome: 'SUCCESS',
      ...meta,
    });
    return 'OK';
  }

  /** The signed-in person changes their password (the current one proves it is them); ends every session. */
  async change(
    principal: Principal,
    current: string,
    next: string,
    meta: RequestMeta,
  ): Promise<PasswordChangeResult> {
    if (!principal.userId) return 'NOT_A_PERSON';
    const user = await this.d.store.user(principal.userId);
    if (!user?.active) return 'NOT_A_PERSON';
    if (!(await verifyPassword(user.passwordHash || null, current))) {
      this.d.audit.record({
        actor: `user:${user.id}`,
        organisation: user.organisationId,
        action: 'PASSWORD_CHANGED',
        target: `user:${user.id}`,
        outcome: 'FAILURE',
        details: { reason: 'current password wrong' },
        ...meta,
      });
      return 'WRONG_PASSWORD';
    }
    const problem = passwordProblem(next);
    if (problem) return { problem };
    await this.setPassword(user, next);
    this.d.audit.record({
      actor: `user:${user.id}`,
      organisation: user.organisationId,
      action: 'PASSWORD_CHANGED',
      target: `user:${user.id}`,
      outcome: 'SUCCESS',
      ...meta,
    });
    return 'OK';
  }

  private async setPassword(user: UserRecord, password: string): Promise<void> {
    const now = this.d.now();
    const changed = {
      ...user,
      passwordHash: await hashPassword(password),
      passwordChangedAt: now,
      updatedAt: now,
    };
    await this.d.publisher.publish('PASSWORD_CHANGED', `user:${user.id}`, { user: changed });
    await this.d.sessions.endAll(user.id);
    await this.d.lockout.clear(user.email, true);
  }
}
