import type { Redis } from 'ioredis';
import type { SecurityKeys } from './keys.ts';

export interface LockoutPolicy {
  /** Failed logins within `windowMs` that lock the account. */
  threshold: number;
  windowMs: number;
  /** Cool-off: how long the account stays locked. */
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { threshold: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

/** Failed logins per account in Redis: `threshold` of them within `windowMs` lock it for `lockMs`. */
export class Lockout {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    readonly policy: LockoutPolicy,
  ) {}

  /** Milliseconds the account stays locked; 0 when it is not. */
  async lockedForMs(email: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys.loginLock(email)));
  }

  /** Counts a failure; locks the account (and starts counting afresh) at the threshold. */
  async fail(email: string): Promise<{ failures: number; locked: boolean }> {
    const key = this.keys.loginFailures(email);
    const [[, failures]] = (await this.redis
      .multi()
      .incr(key)
      .pexpire(key, this.policy.windowMs, 'NX')
      .exec()) as [[Error | null, number]];
    if (failures < this.policy.threshold) return { failures, locked: false };
    await this.redis.multi().set(this.keys.loginLock(email), '1', 'PX', this.policy.lockMs).del(key).exec();
    return { failures, locked: true };
  }

  /** A successful login or a new password: the failures so far no longer count. */
  async clear(email: string, unlock = false): Promise<void> {
    if (unlock) await this.redis.del(this.keys.loginFailures(email), this.keys.loginLock(email));
    else await this.redis.del(this.keys.loginFailures(email));
  }
}
