import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { SecurityKeys } from './keys.ts';

export const ACCESS_TTL_SECONDS = 15 * 60;
export const REFRESH_TTL_SECONDS = 7 * 24 * 3600;
const ISSUER = 'msisdn-hub';
const AUDIENCE = 'msisdn-hub-api';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export interface AccessClaims {
  sub: string;
  org: string;
  role: string;
  jti: string;
  fam: string;
  iat: number;
  /**
   * Issue time in milliseconds (the `ims` claim), to compare with a password change in the same
   * second; tokens signed before the claim existed count from the start of their `iat` second.
   */
  ims: number;
  exp: number;
}

/**
 * Rotates a refresh token atomically: an active token becomes used and its successor active; a
 * used one (a replay: someone holds a copy) revokes the whole family. Keys share the family's
 * hash tag, so the script stays on one cluster slot.
 * Returns OK, REUSED, REVOKED or UNKNOWN.
 */
const ROTATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'REVOKED' end
local state = redis.call('GET', KEYS[2])
if not state then return 'UNKNOWN' end
if state == 'used' then
  redis.call('SET', KEYS[1], 'reused', 'EX', ARGV[1])
  return 'REUSED'
end
redis.call('SET', KEYS[2], 'used', 'EX', ARGV[1])
redis.call('SET', KEYS[3], 'active', 'EX', ARGV[1])
return 'OK'
`;

type RedisWithRotate = Redis & {
  rotateRefresh(family: string, old: string, next: string, ttl: number): Promise<string>;
};

export type RotateResult =
  | { ok: true; tokens: TokenPair; userId: string; family: string }
  | { ok: false; reason: 'INVALID' | 'REUSED' | 'REVOKED'; userId: string | null; family: string | null };

/**
 * Sessions for people: short-lived access JWTs (HS256, JWT_SECRET) with a JTI that logout revokes,
 * and one-time refresh JWTs grouped in a family per login. Revocations live in Redis, which the
 * verify path reads in the same round trip for the JTI and the family.
 */
export class SessionManager {
  private readonly key: Uint8Array;
  private readonly redis: RedisWithRotate;

  constructor(
    redis: Redis,
    private readonly keys: SecurityKeys,
    secret: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = new TextEncoder().encode(secret);
    redis.defineCommand('rotateRefresh', { numberOfKeys: 3, lua: ROTATE });
    this.redis = redis as RedisWithRotate;
  }

  /** A new session (login): a new family. */
  async issue(user: { id: string; organisationId: string; role: string }): Promise<TokenPair> {
    const family = randomUUID();
    const pair = await this.sign(user, family);
    await this.redis.set(
      this.keys.refreshToken(family, pair.refreshJti),
      'active',
      'EX',
      REFRESH_TTL_SECONDS,
    );
    return pair.tokens;
  }

  /** Exchanges a refresh token for a new pair; the old one can never be used again. */
  async rotate(
    refreshToken: string,
    currentUser: (
      claims: AccessClaims,
    ) => Promise<{ id: string; organisationId: string; role: string } | null>,
  ): Promise<RotateResult> {
    const verified = await this.verify(refreshToken, 'refresh');
    const claims = verified && (await this.unended(verified));
    if (!claims) return { ok: false, reason: 'INVALID', userId: null, family: null };
    const user = await currentUser(claims);
    if (!user) return { ok: false, reason: 'INVALID', userId: claims.sub, family: claims.fam };
    const next = await this.sign(user, claims.fam);
    const result = await this.redis.rotateRefresh(
      this.keys.sessionFamily(claims.fam),
      this.keys.refreshToken(claims.fam, claims.jti),
      this.keys.refreshToken(claims.fam, next.refreshJti),
      REFRESH_TTL_SECONDS,
    );
    if (result === 'OK') return { ok: true, tokens: next.tokens, userId: user.id, family: claims.fam };
    return {
      ok: false,
      reason: result === 'UNKNOWN' ? 'INVALID' : (result as 'REUSED' | 'REVOKED'),
      userId: claims.sub,
      family: claims.fam,
    };
  }

  /** The claims of a valid, unrevoked access token, else null. */
  async verifyAccess(token: string): Promise<AccessClaims | null> {
    const claims = await this.verify(token, 'access');
    if (!claims) return null;
    const [jti, family, ended] = await this.redis.mget(
      this.keys.revokedAccess(claims.jti),
      this.keys.sessionFamily(claims.fam),
      this.keys.sessionsEnded(claims.sub),
    );
    return jti || family || endedBefore(ended, claims) ? null : claims;
  }

  /**
   * Ends every session of a user issued before now (password change, role change, disabling,
   * deletion): their access and refresh tokens stop working, a login after it works. Kept as long
   * as the oldest refresh token it could outlive.
   */
  async endAll(userId: string): Promise<void> {
    await this.redis.set(this.keys.sessionsEnded(userId), String(this.now()), 'EX', REFRESH_TTL_SECONDS);
  }

  private async unended(claims: AccessClaims): Promise<AccessClaims | null> {
    const ended = await this.redis.get(this.keys.sessionsEnded(claims.sub));
    return endedBefore(ended, claims) ? null : claims;
  }

  /**
   * Ends the session family of a refresh token of `userId` (logout sending X-Refresh-Token of
   * another session of the same person); a token of someone else, or not valid, is ignored.
   */
  async revokeRefreshOf(userId: string, refreshToken: string): Promise<boolean> {
    const claims = await this.verify(refreshToken, 'refresh');
    if (!claims || claims.sub !== userId) return false;
    await this.redis.set(this.keys.sessionFamily(claims.fam), 'logout', 'EX', REFRESH_TTL_SECONDS);
    return true;
  }

  /** Logout: the access token's JTI and its whole family (so its refresh token dies too). */
  async revoke(claims: Pick<AccessClaims, 'jti' | 'fam' | 'exp'>): Promise<void> {
    const remaining = Math.max(1, claims.exp - Math.floor(this.now() / 1000));
    await this.redis
      .multi()
      .set(this.keys.revokedAccess(claims.jti), '1', 'EX', remaining)
      .set(this.keys.sessionFamily(claims.fam), 'logout', 'EX', REFRESH_TTL_SECONDS)
      .exec();
  }

  private async sign(user: { id: string; organisationId: string; role: string }, family: string) {
    const now = this.now();
    const nowSeconds = Math.floor(now / 1000);
    const accessJti = randomUUID();
    const refreshJti = randomUUID();
    const access = await new SignJWT({
      org: user.organisationId,
      role: user.role,
      fam: family,
      typ: 'access',
      ims: now,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(accessJti)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + ACCESS_TTL_SECONDS)
      .sign(this.key);
    const refresh = await new SignJWT({
      org: user.organisationId,
      role: user.role,
      fam: family,
      typ: 'refresh',
      ims: now,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setJti(refreshJti)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + REFRESH_TTL_SECONDS)
      .sign(this.key);
    return {
      refreshJti,
      tokens: { access_token: access, refresh_token: refresh, expires_in: ACCESS_TTL_SECONDS },
    };
  }

  private async verify(token: string, typ: 'access' | 'refresh'): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.now()),
      });
      if (
        payload.typ !== typ ||
        typeof payload.sub !== 'string' ||
        typeof payload.jti !== 'string' ||
        typeof payload.fam !== 'string' ||
        typeof payload.iat !== 'number' ||
        typeof payload.exp !== 'number'
      )
        return null;
      return {
        sub: payload.sub,
        org: String(payload.org ?? ''),
        role: String(payload.role ?? ''),
        jti: payload.jti,
        fam: payload.fam,
        iat: payload.iat,
        ims: Number.isSafeInteger(payload.ims) ? (payload.ims as number) : payload.iat * 1000,
        exp: payload.exp,
      };
    } catch (err) {
      if (err instanceof errors.JOSEError) return null;
      throw err;
    }
  }
}

/** A user's sessions were ended (endAll) after this token was issued. */
function endedBefore(ended: string | null | undefined, claims: Pick<AccessClaims, 'ims'>): boolean {
  return ended !== null && ended !== undefined && Number(ended) > claims.ims;
}
