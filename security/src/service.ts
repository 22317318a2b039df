import { createHash, randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  type Config,
  createKafka,
  createProducer,
  createRedis,
  createSchemaRegistry,
  type TopicNames,
  topicNames,
} from '@hub/infra';
import {
  type AuditEntry,
  type Authenticator,
  type IngestEnv,
  type OrganisationType,
  type Principal,
  type Role,
  reconixError,
  requestHeader,
  responseHeader,
  tirmsError,
} from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import {
  AccountCodec,
  type AccountEvent,
  type AccountEventType,
  type ApiKeyRecord,
  accountEventKey,
  type OrganisationRecord,
  type UserRecord,
} from './accounts.ts';
import { generateApiKey, looksLikeApiKey, requestKeyHash, sameHash } from './api-keys.ts';
import { AuditLog } from './audit.ts';
import { type SecurityKeys, securityKeys } from './keys.ts';
import { fileOutbox, type Notifier } from './notifications.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { AccountsProjector } from './projector.ts';
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits, rateScopeOf } from './rate-limit.ts';
import { SessionManager, type TokenPair } from './sessions.ts';
import { AccountStore, CACHE_TTL_MS } from './store.ts';

export interface LockoutPolicy {
  /** Failed logins within `windowMs` that lock the account. */
  threshold: number;
  windowMs: number;
  /** Cool-off: how long the account stays locked. */
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { threshold: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };
export const RESET_CODE_TTL_SECONDS = 3600;
/** Request bodies outside the bulk routes; bulk routes read theirs with their own, larger limit. */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_BULK_BODY_BYTES = 64 * 1024 * 1024;
const BULK_PATHS = [/\/bulk$/, /\/upload\/bulk$/, /^\/api\/v1\/webhooks\/receive$/];
/** How long an admin change waits to be visible to this instance before answering anyway. */
const READ_YOUR_WRITES_MS = 5_000;

export interface SecurityOptions {
  rateLimits?: Partial<RateLimits>;
  lockout?: Partial<LockoutPolicy>;
  notify?: Notifier;
  cacheTtlMs?: number;
  now?: () => number;
  /** A client shared with the rest of the process (its owner closes it); otherwise one of its own. */
  redis?: Redis;
}

export interface RequestMeta {
  ip: string | null;
  requestId: string | null;
}

export type LoginResult =
  | { ok: true; tokens: TokenPair }
  | { ok: false; status: 401 | 423; retryAfterSeconds?: number };

export interface NewOrganisation {
  id: string;
  name: string;
  type: OrganisationType;
  operatorCode?: string | null;
  ranges?: string[];
  verifyPerMinute?: number;
  generalPerMinute?: number;
}

export interface NewUser {
  organisationId: string;
  email: string;
  name: string;
  role: Role;
  password: string;
}

/** Which roles a person of each organisation type may hold. */
export const ROLES_BY_ORGANISATION_TYPE: Record<OrganisationType, readonly Role[]> = {
  HUB: ['Admin', 'Auditor', 'Analyst'],
  OPERATOR: ['Operator'],
  SERVICE_PROVIDER: ['ServiceProvider'],
  IDENTITY_SOURCE: [],
};

export class SecurityError extends Error {
  constructor(
    readonly code: 'VALIDATION_ERROR' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The security layer of one API process: organisations, users and API keys (events on the
 * accounts topic, projected into Redis and cached in-process), sessions, lockout, password resets,
 * rate limits and the audit trail.
 */
export class Security {
  readonly keys: SecurityKeys;
  readonly store: AccountStore;
  readonly sessions: SessionManager;
  readonly limiter: RateLimiter;
  readonly rateLimits: RateLimits;
  readonly lockout: LockoutPolicy;
  readonly now: () => number;
  private readonly notify: Notifier;
  /** False when the Redis client was handed in: its owner closes it. */
  private readonly ownsRedis: boolean;

  private constructor(
    readonly redis: Redis,
    private readonly producer: Producer,
    private readonly codec: AccountCodec,
    readonly audit: AuditLog,
    private readonly projector: AccountsProjector | null,
    readonly topics: TopicNames,
    config: Config,
    options: SecurityOptions,
    keys: SecurityKeys,
    store: AccountStore,
  ) {
    this.ownsRedis = options.redis === undefined;
    this.keys = keys;
    this.store = store;
    this.now = options.now ?? Date.now;
    this.sessions = new SessionManager(redis, keys, config.JWT_SECRET, this.now);
    this.limiter = new RateLimiter(redis);
    this.rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    this.lockout = { ...DEFAULT_LOCKOUT, ...options.lockout };
    this.notify = options.notify ?? fileOutbox(join(config.HUB_DATA_DIR, 'outbox', 'notifications.ndjson'));
  }

  /**
   * Connects, registers schemas and, unless `project` is false (tools that only publish), starts
   * the accounts projector and waits until it has caught up, so the first request already sees
   * every organisation, user and key.
   */
  static async create(
    config: Config,
    options: SecurityOptions & { project?: boolean } = {},
  ): Promise<Security> {
    const topics = topicNames(config.TOPIC_PREFIX);
    const registry = createSchemaRegistry(config);
    const codec = new AccountCodec(registry);
    await codec.register(topics.accounts);
    const events = new EventCodec(registry);
    await events.register('audit', topics.audit);
    const kafka = createKafka(config);
    const producer = createProducer(kafka);
    await producer.connect();
    // Auto-pipelining: the commands of concurrent requests issued in one tick go out in one write.
    const redis = options.redis ?? createRedis(config, { enableAutoPipelining: true });
    const keys = securityKeys(config.REDIS_KEY_PREFIX);
    const store = new AccountStore(redis, keys, options.cacheTtlMs ?? CACHE_TTL_MS);
    const audit = new AuditLog(producer, events, topics.audit, options.now ? { now: options.now } : {});
    const projector =
      options.project === false
        ? null
        : new AccountsProjector({
            kafka,
            redis,
            keys,
            codec,
            topic: topics.accounts,
            onApplied: (e) => store.invalidate(e),
            log: (message, fields) => console.error(JSON.stringify({ level: 'warn', message, ...fields })),
          });
    await projector?.start();
    return new Security(redis, producer, codec, audit, projector, topics, config, options, keys, store);
  }

  async close(): Promise<void> {
    await this.projector?.stop();
    await this.audit.flush();
    await this.producer.disconnect();
    if (this.ownsRedis) this.redis.disconnect();
  }

  // ---- credentials on the request path ----

  /** `Authorization: Bearer <API key | access token>` to a principal, or null. */
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
    const record = await this.store.apiKeyByHash(hash);
    if (!record || !sameHash(record.hash, hash) || !keyUsable(record, this.now())) return null;
    const org = await this.store.organisation(record.organisationId);
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
    const claims = await this.sessions.verifyAccess(token);
    if (!claims) return null;
    const user = await this.store.user(claims.sub);
    // A password change ends every session issued before it.
    if (!user?.active || user.passwordChangedAt > claims.ims) return null;
    const org = await this.store.organisation(user.organisationId);
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

  // ---- people: login, refresh, logout, password reset ----

  async login(emailInput: string, password: string, meta: RequestMeta): Promise<LoginResult> {
    const email = emailInput.trim().toLowerCase();
    const entry = (
      outcome: AuditEntry['outcome'],
      details: Record<string, unknown>,
      user?: UserRecord | null,
    ) =>
      this.audit.record({
        actor: user ? `user:${user.id}` : `email:${email}`,
        organisation: user?.organisationId ?? null,
        action: 'LOGIN',
        target: email,
        outcome,
        details,
        ...meta,
      });
    const lockTtl = await this.redis.pttl(this.keys.loginLock(email));
    if (lockTtl > 0) {
      entry('DENIED', { reason: 'account locked' });
      return { ok: false, status: 423, retryAfterSeconds: Math.ceil(lockTtl / 1000) };
    }
    const user = await this.store.userByEmail(email);
    const org = user ? await this.store.organisation(user.organisationId) : null;
    const valid = await verifyPassword(user?.passwordHash ?? null, password);
    if (!valid || !user?.active || !org?.active) {
      const key = this.keys.loginFailures(email);
      const [[, failures]] = (await this.redis
        .multi()
        .incr(key)
        .pexpire(key, this.lockout.windowMs, 'NX')
        .exec()) as [[Error | null, number]];
      if (failures >= this.lockout.threshold) {
        await this.redis
          .multi()
          .set(this.keys.loginLock(email), '1', 'PX', this.lockout.lockMs)
          .del(key)
          .exec();
        this.audit.record({
          actor: `email:${email}`,
          organisation: user?.organisationId ?? null,
          action: 'ACCOUNT_LOCKED',
          target: email,
          outcome: 'SUCCESS',
          details: { failures, lockSeconds: this.lockout.lockMs / 1000 },
          ...meta,
        });
      }
      entry('FAILURE', { reason: 'bad credentials', failures }, user);
      return { ok: false, status: 401 };
    }
    await this.redis.del(this.keys.loginFailures(email));
    const tokens = await this.sessions.issue(user);
    entry('SUCCESS', {}, user);
    return { ok: true, tokens };
  }

  async refresh(refreshToken: string, meta: RequestMeta): Promise<TokenPair | null> {
    const result = await this.sessions.rotate(refreshToken, async (id) => {
      const user = await this.store.user(id);
      return user?.active ? user : null;
    });
    if (result.ok) return result.tokens;
    if (result.reason === 'REUSED') {
      this.audit.record({
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

  async logout(principal: Principal, accessToken: string, meta: RequestMeta): Promise<boolean> {
    const claims = await this.sessions.verifyAccess(accessToken);
    if (!claims) return false;
    await this.sessions.revoke(claims);
    this.audit.record({
      actor: `user:${claims.sub}`,
      organisation: principal.organisation,
      action: 'LOGOUT',
      target: `session:${claims.jti}`,
      outcome: 'SUCCESS',
      ...meta,
    });
    return true;
  }

  /** Sends a single-use reset code to the account's address; says nothing about whether it exists. */
  async forgotPassword(emailInput: string, meta: RequestMeta): Promise<void> {
    const email = emailInput.trim().toLowerCase();
    const user = await this.store.userByEmail(email);
    this.audit.record({
      actor: `email:${email}`,
      organisation: user?.organisationId ?? null,
      action: 'PASSWORD_RESET_REQUESTED',
      target: email,
      outcome: user?.active ? 'SUCCESS' : 'FAILURE',
      ...meta,
    });
    if (!user?.active) return;
    const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
    await this.redis.set(this.keys.resetCode(sha256(code)), user.id, 'EX', RESET_CODE_TTL_SECONDS);
    await this.notify({
      to: user.email,
      subject: 'Your password reset code',
      body: `Your reset code is ${code}. It expires in ${RESET_CODE_TTL_SECONDS / 60} minutes and works once.`,
      data: { resetCode: code },
    });
  }

  /** Sets a new password with a reset code (used up either way); ends every session of the account. */
  async resetPassword(
    code: string,
    password: string,
    meta: RequestMeta,
  ): Promise<'OK' | 'INVALID_CODE' | string> {
    const problem = passwordProblem(password);
    if (problem) return problem;
    const key = this.keys.resetCode(sha256(code));
    const [[, userId]] = (await this.redis.multi().get(key).del(key).exec()) as [
      [Error | null, string | null],
    ];
    const user = userId ? await this.store.user(userId) : null;
    if (!user) {
      this.audit.record({
        actor: 'anonymous',
        organisation: null,
        action: 'PASSWORD_RESET',
        outcome: 'FAILURE',
        details: { reason: 'unknown, used or expired code' },
        ...meta,
      });
      return 'INVALID_CODE';
    }
    const changed = { ...user, passwordHash: await hashPassword(password), passwordChangedAt: this.now() };
    await this.publish('PASSWORD_CHANGED', `user:${user.id}`, { user: changed });
    await this.redis.del(this.keys.loginLock(user.email), this.keys.loginFailures(user.email));
    this.audit.record({
      actor: `user:${user.id}`,
      organisation: user.organisationId,
      action: 'PASSWORD_RESET',
      target: user.email,
      outcome: 'SUCCESS',
      ...meta,
    });
    return 'OK';
  }

  // ---- administration: every change is an event on the accounts topic ----

  async createOrganisation(actor: string, o: NewOrganisation): Promise<OrganisationRecord> {
    if (!/^[A-Z0-9][A-Z0-9_-]{1,31}$/.test(o.id))
      throw new SecurityError('VALIDATION_ERROR', 'id: 2-32 upper-case letters, digits, _ or -');
    if (o.type === 'OPERATOR' && !o.operatorCode)
      throw new SecurityError('VALIDATION_ERROR', 'operatorCode: is required for an operator');
    const record: OrganisationRecord = {
      id: o.id,
      name: o.name,
      type: o.type,
      operatorCode: o.type === 'OPERATOR' ? (o.operatorCode ?? null) : null,
      ranges: o.ranges ?? [],
      verifyPerMinute: o.verifyPerMinute ?? this.rateLimits.verify.limit,
      generalPerMinute: o.generalPerMinute ?? this.rateLimits.general.limit,
      active: true,
    };
    await this.publish('ORGANISATION_UPSERTED', actor, { organisation: record });
    this.audit.record({
      actor,
      organisation: record.id,
      action: 'ORGANISATION_UPSERTED',
      target: record.id,
      outcome: 'SUCCESS',
      details: { type: record.type },
    });
    return record;
  }

  async createUser(actor: string, u: NewUser): Promise<Omit<UserRecord, 'passwordHash'>> {
    const org = await this.store.organisation(u.organisationId);
    if (!org) throw new SecurityError('NOT_FOUND', `organisation ${u.organisationId} does not exist`);
    if (!ROLES_BY_ORGANISATION_TYPE[org.type].includes(u.role))
      throw new SecurityError(
        'VALIDATION_ERROR',
        `role: ${u.role} is not a role of a ${org.type} organisation`,
      );
    const problem = passwordProblem(u.password);
    if (problem) throw new SecurityError('VALIDATION_ERROR', `password: ${problem}`);
    const email = u.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
      throw new SecurityError('VALIDATION_ERROR', 'email: is not an e-mail address');
    if (await this.store.userByEmail(email))
      throw new SecurityError('CONFLICT', `a user with e-mail ${email} exists`);
    const record: UserRecord = {
      id: randomUUID(),
      organisationId: org.id,
      email,
      name: u.name,
      role: u.role,
      passwordHash: await hashPassword(u.password),
      passwordChangedAt: this.now(),
      active: true,
    };
    await this.publish('USER_UPSERTED', actor, { user: record });
    this.audit.record({
      actor,
      organisation: org.id,
      action: 'USER_CREATED',
      target: `user:${record.id}`,
      outcome: 'SUCCESS',
      details: { role: record.role },
    });
    const { passwordHash: _, ...visible } = record;
    return visible;
  }

  /** A new key; the only time the key itself is seen. */
  async issueKey(
    actor: string,
    organisationId: string,
    name: string,
    meta?: RequestMeta,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const org = await this.store.organisation(organisationId);
    if (!org) throw new SecurityError('NOT_FOUND', `organisation ${organisationId} does not exist`);
    const generated = generateApiKey();
    const record: ApiKeyRecord = {
      id: randomUUID(),
      organisationId: org.id,
      name,
      prefix: generated.prefix,
      hash: generated.hash,
      createdAt: this.now(),
      createdBy: actor,
      expiresAt: null,
      revokedAt: null,
    };
    await this.publish('API_KEY_ISSUED', actor, { apiKey: record });
    this.audit.record({
      actor,
      organisation: org.id,
      action: 'API_KEY_CREATED',
      target: `key:${record.id}`,
      outcome: 'SUCCESS',
      details: { prefix: record.prefix, name },
      ...meta,
    });
    return { key: generated.key, record };
  }

  /** A successor key; the old one keeps working for `overlapSeconds`, then stops. */
  async rotateKey(
    actor: string,
    old: ApiKeyRecord,
    overlapSeconds: number,
    meta?: RequestMeta,
  ): Promise<{ key: string; record: ApiKeyRecord; previous: ApiKeyRecord }> {
    const next = await this.issueKey(actor, old.organisationId, old.name, meta);
    const expiresAt = this.now() + overlapSeconds * 1000;
    const previous = {
      ...old,
      expiresAt: old.expiresAt === null ? expiresAt : Math.min(old.expiresAt, expiresAt),
    };
    await this.publish('API_KEY_ROTATED', actor, { apiKey: previous });
    this.audit.record({
      actor,
      organisation: old.organisationId,
      action: 'API_KEY_ROTATED',
      target: `key:${old.id}`,
      outcome: 'SUCCESS',
      details: { successor: next.record.id, overlapSeconds },
      ...meta,
    });
    return { ...next, previous };
  }

  async revokeKey(actor: string, key: ApiKeyRecord, meta?: RequestMeta): Promise<ApiKeyRecord> {
    const revoked = { ...key, revokedAt: key.revokedAt ?? this.now() };
    await this.publish('API_KEY_REVOKED', actor, { apiKey: revoked });
    this.audit.record({
      actor,
      organisation: key.organisationId,
      action: 'API_KEY_REVOKED',
      target: `key:${key.id}`,
      outcome: 'SUCCESS',
      details: { prefix: key.prefix },
      ...meta,
    });
    return revoked;
  }

  /**
   * Publishes one change (acks=all) and waits until this instance's projection holds it, so the
   * caller's next request sees it; other instances see it as soon as they consume it.
   */
  async publish(
    type: AccountEventType,
    actor: string,
    entity: Partial<Pick<AccountEvent, 'organisation' | 'user' | 'apiKey'>>,
  ): Promise<void> {
    const now = this.now();
    const event: AccountEvent = {
      eventId: randomUUID(),
      source: 'API',
      type,
      actor,
      organisation: entity.organisation ?? null,
      user: entity.user ?? null,
      apiKey: entity.apiKey ?? null,
      occurredAt: now,
      receivedAt: now,
    };
    const [meta] = await this.producer.send({
      topic: this.topics.accounts,
      messages: [{ key: accountEventKey(event), value: this.codec.encode(event) }],
    });
    if (!this.projector || !meta?.baseOffset) return;
    await Promise.race([
      this.projector.waitFor(meta.partition, Number(meta.baseOffset) + 1),
      new Promise((resolve) => setTimeout(resolve, READ_YOUR_WRITES_MS).unref()),
    ]);
  }

  // ---- HTTP: principal resolution, rate limits, body limits ----

  /**
   * Runs before every route: limits the body size (413), resolves the caller when credentials are
   * sent (routes still decide who may pass), and counts the request against its rate limit (429
   * with Retry-After and RateLimit-* headers).
   */
  middleware<E extends IngestEnv>(authenticate: Authenticator = this.authenticate): MiddlewareHandler<E> {
    const small = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => tooLarge(c, MAX_BODY_BYTES) });
    const bulk = bodyLimit({
      maxSize: MAX_BULK_BODY_BYTES,
      onError: (c) => tooLarge(c, MAX_BULK_BODY_BYTES),
    });
    return async (c, next) => {
      const apiKeyHeader = requestHeader(c, 'x-api-key');
      const bearer = requestHeader(c, 'authorization');
      const authorization = bearer ?? (apiKeyHeader ? `Bearer ${apiKeyHeader}` : undefined);
      const principal = authorization ? await authenticate(authorization) : null;
      if (principal && bearer) c.set('principal', principal);
      const scope = rateScopeOf(c.req.path);
      if (scope) {
        const limited = await this.rateLimit(c, scope, principal);
        if (limited) return limited;
      }
      const bulkPath = BULK_PATHS.some((p) => p.test(c.req.path));
      // A declared Content-Length bounds the body (Node's parser enforces the framing), so only a
      // body of unknown length (chunked) needs the streaming limit; GET and HEAD skip it.
      const declared = requestHeader(c, 'content-length');
      if (declared !== undefined) {
        const max = bulkPath ? MAX_BULK_BODY_BYTES : MAX_BODY_BYTES;
        return Number(declared) > max ? tooLarge(c, max) : next();
      }
      if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
      return (bulkPath ? bulk : small)(c, next);
    };
  }

  private async rateLimit(
    c: Context,
    scope: keyof RateLimits,
    principal: Principal | null,
  ): Promise<Response | null> {
    let { limit, windowMs } = this.rateLimits[scope];
    let subject = `ip:${clientIp(c)}`;
    if (principal && scope !== 'auth') {
      subject = `org:${principal.organisation}`;
      const org = await this.store.organisation(principal.organisation);
      if (org && scope === 'verify') limit = Math.max(limit, org.verifyPerMinute);
      if (org && scope === 'general') limit = Math.max(limit, org.generalPerMinute);
      if (principal.userId && (scope === 'ndprAccess' || scope === 'ndprDeletion'))
        subject = `user:${principal.userId}`;
    }
    let result: Awaited<ReturnType<RateLimiter['hit']>>;
    try {
      result = await this.limiter.hit(this.keys.rateLimit(scope, subject), limit, windowMs);
    } catch (err) {
      // Rate limits protect capacity; when Redis is unreachable the request path fails on its own.
      console.error(
        JSON.stringify({
          level: 'error',
          message: 'rate limiter unavailable',
          error: (err as Error).message,
        }),
      );
      return null;
    }
    const resetSeconds = Math.max(1, Math.ceil(result.resetMs / 1000));
    responseHeader(c, 'RateLimit-Limit', String(result.limit));
    responseHeader(c, 'RateLimit-Remaining', String(result.remaining));
    responseHeader(c, 'RateLimit-Reset', String(resetSeconds));
    if (result.allowed) return null;
    responseHeader(c, 'Retry-After', String(resetSeconds));
    const message = `rate limit of ${result.limit} requests per ${windowMs / 1000} s exceeded; retry in ${resetSeconds} s`;
    return c.req.path.startsWith('/api/v1/phone/api')
      ? tirmsError(c, 'RATE_LIMITED', message)
      : reconixError(c, 'RATE_LIMITED', message);
  }
}

function keyUsable(k: ApiKeyRecord, now: number): boolean {
  return k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function tooLarge(c: Context, max: number) {
  const message = `request body exceeds ${max} bytes`;
  return c.req.path.startsWith('/api/v1/phone/api')
    ? tirmsError(c, 'PAYLOAD_TOO_LARGE', message)
    : reconixError(c, 'PAYLOAD_TOO_LARGE', message);
}

/** The socket's address; requests handed to the app in-process (tests) have none. */
export function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'in-process';
  }
}

export function requestMeta(c: Context): RequestMeta {
  const ip = clientIp(c);
  return { ip, requestId: (c.get('requestId') as string | undefined) ?? null };
}
