import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '@hub/schemas';

export type OrganisationType = 'OPERATOR' | 'SERVICE_PROVIDER' | 'IDENTITY_SOURCE' | 'HUB';

/** The roles of the Reconix document's Auth column (Analyst: read-only). */
export const ROLES = ['Admin', 'Operator', 'Auditor', 'ServiceProvider', 'Analyst'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: resolved from an API key (machines) or a session (people). */
export interface Principal {
  organisation: string;
  type: OrganisationType;
  /** For operators: the operator code whose number ranges they may update. */
  operatorCode: string | null;
  /** Non-secret identifier of the credential used, for audit and logs. */
  credentialId: string;
  /** Roles held; absent for API keys, whose role follows from the organisation type (rolesOf). */
  roles?: readonly Role[];
  /** National number prefixes the operator may update; absent: those allocated to operatorCode. */
  ranges?: readonly string[];
  /** The person behind a session (user id); absent for API keys. */
  userId?: string;
  /** The JWT id of the session's access token; absent for API keys. */
  sessionId?: string;
}

/** What an API key of each organisation type may do, in Reconix roles (feed keys hold none). */
export const KEY_ROLES: Record<OrganisationType, readonly Role[]> = {
  OPERATOR: ['Operator'],
  SERVICE_PROVIDER: ['ServiceProvider'],
  HUB: ['Admin'],
  IDENTITY_SOURCE: [],
};

export function rolesOf(principal: Principal): readonly Role[] {
  return principal.roles ?? KEY_ROLES[principal.type];
}

/** A privileged action for the audit trail; the recorder adds ids and times. */
export interface AuditEntry {
  actor: string;
  organisation: string | null;
  action: string;
  target?: string | null;
  outcome: 'SUCCESS' | 'DENIED' | 'FAILURE';
  details?: Record<string, unknown>;
  requestId?: string | null;
  ip?: string | null;
}

/** The audit event an entry becomes: an id and the time it was recorded added. */
export function auditEventOf(entry: AuditEntry, now: number): AuditEvent {
  return {
    eventId: randomUUID(),
    source: 'API',
    actor: entry.actor,
    organisation: entry.organisation,
    action: entry.action,
    target: entry.target ?? null,
    outcome: entry.outcome,
    details: JSON.stringify(entry.details ?? {}),
    requestId: entry.requestId ?? null,
    ip: entry.ip ?? null,
    occurredAt: now,
    receivedAt: now,
  };
}

/** Records audit entries on the audit topic, off the request path. */
export interface AuditRecorder {
  record(entry: AuditEntry): void;
}

/** The actor an audit entry names for a principal: the user, else the credential. */
export function actorOf(principal: Principal): string {
  return principal.userId ? `user:${principal.userId}` : `key:${principal.credentialId}`;
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
