import { join } from 'node:path';
import {
  type Config,
  createKafka,
  createLogger,
  createProducer,
  createRedis,
  createSchemaRegistry,
  type Logger,
  type TopicNames,
  topicNames,
} from '@hub/infra';
import type { Authenticator, IngestEnv, Principal } from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import type { Env, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import {
  AccountCodec,
  type AccountEvent,
  type AccountEventType,
  type ApiKeyRecord,
  type OrganisationRecord,
} from './accounts.ts';
import {
  Administration,
  type NewOrganisation,
  type NewUser,
  type UserChange,
  type VisibleUser,
} from './admin.ts';
import { AuditLog } from './audit.ts';
import { TrustedProxies } from './client-address.ts';
import { Credentials } from './credentials.ts';
import { type SecurityKeys, securityKeys } from './keys.ts';
import { DEFAULT_LOCKOUT, Lockout, type LockoutPolicy } from './lockout.ts';
import { clientIp, type RequestMeta, securityMiddleware } from './middleware.ts';
import { fileOutbox, type Notifier } from './notifications.ts';
import { type PasswordChangeResult, Passwords } from './password-reset.ts';
import { AccountsProjector } from './projector.ts';
import { emailPseudonym } from './pseudonyms.ts';
import { AccountsPublisher, topicPartitions } from './publisher.ts';
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits, type RateScope } from './rate-limit.ts';
import { RatePolicy } from './rate-policy.ts';
import { SessionManager, type TokenPair } from './sessions.ts';
import { type LoginResult, SignIn } from './sign-in.ts';
import { AccountStore, CACHE_TTL_MS } from './store.ts';

export interface SecurityOptions {
  rateLimits?: Partial<RateLimits>;
  lockout?: Partial<LockoutPolicy>;
  notify?: Notifier;
  cacheTtlMs?: number;
  now?: () => number;
  /** A client shared with the rest of the process (its owner closes it); otherwise one of its own. */
  redis?: Redis;
  /** How often the projector tries again to read account records it could not (ms). */
  retryUnreadableMs?: number;
  /** The process's structured logger; default: one named security, at LOG_LEVEL. */
  log?: Logger;
}

/** The security layer's log: the process's logger (SecurityOptions.log) or one of its own. */
const loggerOf = (config: Config, options: SecurityOptions): Logger =>
  options.log ?? createLogger(config, 'security');

/**
 * The security layer of one API process, as one facade over its parts: request-path credentials
 * (credentials.ts), sign-in and sessions (sign-in.ts, sessions.ts), lockout (lockout.ts),
 * passwords (password-reset.ts), administration (admin.ts, publisher.ts), the HTTP middleware
 * (middleware.ts) and rate limits (rate-policy.ts, rate-limit.ts). Each part is reachable for
 * callers that need only it; the methods here keep the older single-class calls working.
 */
export class Security {
  readonly keys: SecurityKeys;
  readonly store: AccountStore;
  readonly sessions: SessionManager;
  readonly limiter: RateLimiter;
  readonly rateLimits: RateLimits;
  readonly lockout: LockoutPolicy;
  readonly now: () => number;
  readonly proxies: TrustedProxies;
  readonly credentials: Credentials;
  readonly signIn: SignIn;
  readonly passwords: Passwords;
  readonly admin: Administration;
  readonly publisher: AccountsPublisher;
  readonly policy: RatePolicy;
  readonly lockouts: Lockout;
  /** The audit trail's name for an e-mail address: a keyed hash, never the address. */
  readonly pseudonym: (email: string) => string;
  /** False when the Redis client was handed in: its owner closes it. */
  private readonly ownsRedis: boolean;

  private constructor(
    readonly redis: Redis,
    private readonly producer: Producer,
    readonly audit: AuditLog,
    readonly projector: AccountsProjector | null,
    readonly topics: TopicNames,
    parts: {
      config: Config;
      options: SecurityOptions;
      keys: SecurityKeys;
      store: AccountStore;
      codec: AccountCodec;
      partitions: number;
    },
  ) {
    const { config, options, keys, store } = parts;
    this.ownsRedis = options.redis === undefined;
    this.keys = keys;
    this.store = store;
    this.now = options.now ?? Date.now;
    this.sessions = new SessionManager(redis, keys, config.JWT_SECRET, this.now);
    this.limiter = new RateLimiter(redis);
    this.rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    this.lockout = { ...DEFAULT_LOCKOUT, ...options.lockout };
    this.proxies = new TrustedProxies(config.TRUSTED_PROXIES);
    this.lockouts = new Lockout(redis, keys, this.lockout);
    const log = loggerOf(config, options).child({ component: 'rate-limits' });
    this.policy = new RatePolicy(this.rateLimits, this.limiter, store, keys, (m, f) => log.error(f, m));
    this.credentials = new Credentials({
      store,
      sessions: this.sessions,
      now: this.now,
      unreadable: (organisation) => projector?.refuses(organisation) ?? false,
    });
    this.publisher = new AccountsPublisher({
      producer,
      codec: parts.codec,
      topic: topics.accounts,
      partitions: parts.partitions,
      projector,
      now: this.now,
    });
    const pseudonym = (email: string) => emailPseudonym(email, config.TOKEN_SECRET);
    this.pseudonym = pseudonym;
    this.signIn = new SignIn({
      store,
      sessions: this.sessions,
      lockout: this.lockouts,
      policy: this.policy,
      audit,
      pseudonym,
    });
    this.passwords = new Passwords({
      redis,
      keys,
      store,
      publisher: this.publisher,
      sessions: this.sessions,
      lockout: this.lockouts,
      policy: this.policy,
      audit,
      pseudonym,
      notify: options.notify ?? fileOutbox(join(config.HUB_DATA_DIR, 'outbox', 'notifications.ndjson')),
      now: this.now,
    });
    this.admin = new Administration({
      store,
      publisher: this.publisher,
      sessions: this.sessions,
      audit,
      rateLimits: this.rateLimits,
      now: this.now,
    });
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
    const partitions = await topicPartitions(kafka, topics.accounts);
    const producer = createProducer(kafka);
    await producer.connect();
    // Auto-pipelining: the commands of concurrent requests issued in one tick go out in one write.
    const redis = options.redis ?? createRedis(config, { enableAutoPipelining: true });
    const keys = securityKeys(config.REDIS_KEY_PREFIX);
    const store = new AccountStore(redis, keys, options.cacheTtlMs ?? CACHE_TTL_MS);
    const log = loggerOf(config, options);
    const projectorLog = log.child({ component: 'accounts-projector' });
    const audit = new AuditLog(producer, events, topics.audit, {
      log,
      ...(options.now ? { now: options.now } : {}),
    });
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
            onUserDeleted: (id) => store.invalidateUser(id),
            log: (level, message, fields) => projectorLog[level](fields ?? {}, message),
            ...(options.retryUnreadableMs ? { retryUnreadableMs: options.retryUnreadableMs } : {}),
          });
    await projector?.start();
    return new Security(redis, producer, audit, projector, topics, {
      config,
      options,
      keys,
      store,
      codec,
      partitions,
    });
  }

  async close(): Promise<void> {
    await this.projector?.stop();
    await this.audit.flush();
    await this.producer.disconnect();
    if (this.ownsRedis) this.redis.disconnect();
  }

  // ---- credentials on the request path ----

  /** `Authorization: Bearer <API key | access token>` to a principal, or null. */
  get authenticate(): Authenticator {
    return this.credentials.authenticate;
  }

  // ---- people: login, refresh, logout, passwords ----

  login(email: string, password: string, meta: RequestMeta): Promise<LoginResult> {
    return this.signIn.login(email, password, meta);
  }

  refresh(refreshToken: string, meta: RequestMeta): Promise<TokenPair | null> {
    return this.signIn.refresh(refreshToken, meta);
  }

  logout(
    principal: Principal,
    accessToken: string,
    meta: RequestMeta,
    refreshToken?: string,
  ): Promise<boolean> {
    return this.signIn.logout(principal, accessToken, meta, refreshToken);
  }

  /** Sends a reset code if the account exists; refused (nothing sent) past the per-account limit. */
  forgotPassword(
    email: string,
    meta: RequestMeta,
  ): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number; message: string }> {
    return this.passwords.forgot(email, meta);
  }

  resetPassword(code: string, password: string, meta: RequestMeta): Promise<'OK' | 'INVALID_CODE' | string> {
    return this.passwords.reset(code, password, meta);
  }

  changePassword(
    principal: Principal,
    current: string,
    next: string,
    meta: RequestMeta,
  ): Promise<PasswordChangeResult> {
    return this.passwords.change(principal, current, next, meta);
  }

  // ---- administration: every change is an event on the accounts topic ----

  createOrganisation(actor: string, o: NewOrganisation): Promise<OrganisationRecord> {
    return this.admin.createOrganisation(actor, o);
  }

  createUser(actor: string, u: NewUser): Promise<VisibleUser> {
    return this.admin.createUser(actor, u);
  }

  updateUser(actor: string, userId: string, change: UserChange, meta?: RequestMeta): Promise<VisibleUser> {
    return this.admin.updateUser(actor, userId, change, meta);
  }

  deleteUser(actor: string, userId: string, meta?: RequestMeta): Promise<void> {
    return this.admin.deleteUser(actor, userId, meta);
  }

  issueKey(
    actor: string,
    organisationId: string,
    name: string,
    meta?: RequestMeta,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    return this.admin.issueKey(actor, organisationId, name, meta);
  }

  rotateKey(
    actor: string,
    old: ApiKeyRecord,
    overlapSeconds: number,
    meta?: RequestMeta,
  ): Promise<{ key: string; record: ApiKeyRecord; previous: ApiKeyRecord }> {
    return this.admin.rotateKey(actor, old, overlapSeconds, meta);
  }

  revokeKey(actor: string, key: ApiKeyRecord, meta?: RequestMeta): Promise<ApiKeyRecord> {
    return this.admin.revokeKey(actor, key, meta);
  }

  /** Publishes one change and waits until this instance's projection holds it. */
  publish(
    type: AccountEventType,
    actor: string,
    entity: Partial<Pick<AccountEvent, 'organisation' | 'user' | 'apiKey'>>,
  ): Promise<void> {
    return this.publisher.publish(type, actor, entity);
  }

  // ---- HTTP ----

  /** Runs before every route: client address, body limits, principal, the path's default limit. */
  middleware<E extends IngestEnv>(authenticate: Authenticator = this.authenticate): MiddlewareHandler<E> {
    return securityMiddleware<E>({ authenticate, policy: this.policy, proxies: this.proxies });
  }

  /**
   * A route's own rate-limit scope, placed after its auth check: a per-principal scope
   * (ndprAccess, ndprDeletion) counts the authenticated principal, a public route the client
   * address. The path's default limit then does not count the request as well.
   */
  limit<E extends Env = Env>(scope: RateScope): MiddlewareHandler<E> {
    return this.policy.limit(scope, clientIp) as unknown as MiddlewareHandler<E>;
  }
}
