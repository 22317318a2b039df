import { randomUUID } from 'node:crypto';
import type { OrganisationType, Role } from '@hub/ingest';
import type { ApiKeyRecord, OrganisationRecord, UserRecord } from './accounts.ts';
import { generateApiKey } from './api-keys.ts';
import type { AuditLog } from './audit.ts';
import type { RequestMeta } from './middleware.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import type { AccountsPublisher } from './publisher.ts';
import type { RateLimits } from './rate-limit.ts';
import type { SessionManager } from './sessions.ts';
import type { AccountStore } from './store.ts';

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

export interface UserChange {
  role?: Role;
  active?: boolean;
}

export type VisibleUser = Omit<UserRecord, 'passwordHash'>;

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

export interface AdministrationDeps {
  store: AccountStore;
  publisher: AccountsPublisher;
  sessions: SessionManager;
  audit: AuditLog;
  rateLimits: RateLimits;
  now: () => number;
}

function visible(user: UserRecord): VisibleUser {
  const { passwordHash: _, ...rest } = user;
  return rest;
}

/** Organisations, users and API keys: every change is an event on the accounts topic. */
export class Administration {
  constructor(private readonly d: AdministrationDeps) {}

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
      verifyPerMinute: o.verifyPerMinute ?? this.d.rateLimits.verify.limit,
      generalPerMinute: o.generalPerMinute ?? this.d.rateLimits.general.limit,
      active: true,
    };
    await this.d.publisher.publish('ORGANISATION_UPSERTED', actor, { organisation: record });
    this.d.audit.record({
      actor,
      organisation: record.id,
      action: 'ORGANISATION_UPSERTED',
      target: record.id,
      outcome: 'SUCCESS',
      details: { type: record.type },
    });
    return record;
  }

  async createUser(actor: string, u: NewUser): Promise<VisibleUser> {
    const org = await this.d.store.organisation(u.organisationId);
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
    if (await this.d.store.userByEmail(email))
      throw new SecurityError('CONFLICT', `a user with e-mail ${email} exists`);
    const record: UserRecord = {
      id: randomUUID(),
      organisationId: org.id,
      email,
      name: u.name,
      role: u.role,
      passwordHash: await hashPassword(u.password),
      passwordChangedAt: this.d.now(),
      active: true,
      createdAt: this.d.now(),
      updatedAt: this.d.now(),
    };
    await this.d.publisher.publish('USER_UPSERTED', actor, { user: record });
    this.d.audit.record({
      actor,
      organisation: org.id,
      action: 'USER_CREATED',
      target: `user:${record.id}`,
      outcome: 'SUCCESS',
      details: { role: record.role },
    });
    return visible(record);
  }

  /** A new key; the only time the key itself is seen. */
  async issueKey(
    actor: string,
    organisationId: string,
    name: string,
    meta?: RequestMeta,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const org = await this.d.store.organisation(organisationId);
    if (!org) throw new SecurityError('NOT_FOUND', `organisation ${organisationId} does not exist`);
    const generated = generateApiKey();
    const record: ApiKeyRecord = {
      id: randomUUID(),
      organisationId: org.id,
      name,
      prefix: generated.prefix,
      hash: generated.hash,
      createdAt: this.d.now(),
      createdBy: actor,
      expiresAt: null,
      revokedAt: null,
    };
    await this.d.publisher.publish('API_KEY_ISSUED', actor, { apiKey: record });
    this.d.audit.record({
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
    const expiresAt = this.d.now() + overlapSeconds * 1000;
    const previous = {
      ...old,
      expiresAt: old.expiresAt === null ? expiresAt : Math.min(old.expiresAt, expiresAt),
    };
    await this.d.publisher.publish('API_KEY_ROTATED', actor, { apiKey: previous });
    this.d.audit.record({
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
    const revoked = { ...key, revokedAt: key.revokedAt ?? this.d.now() };
    await this.d.publisher.publish('API_KEY_REVOKED', actor, { apiKey: revoked });
    this.d.audit.record({
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
   * Changes a user's role or disables (or re-enables) them. A change of either ends every session
   * of the user: a token issued for the old role, or before the disabling, never works again.
   */
  async updateUser(
    actor: string,
    userId: string,
    change: UserChange,
    meta?: RequestMeta,
  ): Promise<VisibleUser> {
    const user = await this.d.store.user(userId);
    if (!user) throw new SecurityError('NOT_FOUND', `no user ${userId}`);
    const org = await this.d.store.organisation(user.organisationId);
    const role = change.role ?? user.role;
    if (org && !ROLES_BY_ORGANISATION_TYPE[org.type].includes(role))
      throw new SecurityError(
        'VALIDATION_ERROR',
        `role: ${role} is not a role of a ${org.type} organisation`,
      );
    const active = change.active ?? user.active;
    if (role === user.role && active === user.active) return visible(user);
    const updated: UserRecord = { ...user, role, active, updatedAt: this.d.now() };
    await this.d.publisher.publish('USER_UPSERTED', actor, { user: updated });
    await this.d.sessions.endAll(user.id);
    this.d.audit.record({
      actor,
      organisation: user.organisationId,
      action: 'USER_UPDATED',
      target: `user:${user.id}`,
      outcome: 'SUCCESS',
      details: {
        ...(role !== user.role ? { role: { from: user.role, to: role } } : {}),
        ...(active !== user.active ? { active } : {}),
        effect: 'every session of the user ended',
      },
      ...meta,
    });
    return visible(updated);
  }

  /**
   * Deletes a user: a tombstone on the accounts topic, so compaction removes every snapshot of
   * them, password hash included; their sessions end and their e-mail address is free again.
   */
  async deleteUser(actor: string, userId: string, meta?: RequestMeta): Promise<void> {
    const user = await this.d.store.user(userId);
    if (!user) throw new SecurityError('NOT_FOUND', `no user ${userId}`);
    await this.d.publisher.deleteUser(user.organisationId, user.id);
    await this.d.sessions.endAll(user.id);
    this.d.audit.record({
      actor,
      organisation: user.organisationId,
      action: 'USER_DELETED',
      target: `user:${user.id}`,
      outcome: 'SUCCESS',
      ...meta,
    });
  }
}
