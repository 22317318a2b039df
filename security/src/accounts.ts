import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OrganisationType, Role } from '@hub/ingest';
import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';

export interface OrganisationRecord {
  id: string;
  name: string;
  type: OrganisationType;
  operatorCode: string | null;
  ranges: string[];
  verifyPerMinute: number;
  generalPerMinute: number;
  active: boolean;
}

export interface UserRecord {
  id: string;
  organisationId: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  passwordChangedAt: number;
  active: boolean;
  /** Epoch ms the user was created (account schema v2); null or absent on records written before. */
  createdAt?: number | null;
  /** Epoch ms the user record last changed (v2); null or absent on records written before. */
  updatedAt?: number | null;
}

export interface ApiKeyRecord {
  id: string;
  organisationId: string;
  name: string;
  prefix: string;
  hash: string;
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

export type AccountEventType =
  | 'ORGANISATION_UPSERTED'
  | 'USER_UPSERTED'
  | 'PASSWORD_CHANGED'
  | 'API_KEY_ISSUED'
  | 'API_KEY_ROTATED'
  | 'API_KEY_REVOKED';

/** One change on the accounts topic: the new snapshot of the one entity it changes. */
export interface AccountEvent {
  eventId: string;
  source: string;
  type: AccountEventType;
  actor: string;
  organisation: OrganisationRecord | null;
  user: UserRecord | null;
  apiKey: ApiKeyRecord | null;
  occurredAt: number;
  receivedAt: number;
}

/** The organisation an event belongs to: it picks the partition, so one organisation's changes stay in order. */
export function accountEventOrganisation(e: AccountEvent): string {
  const id = e.organisation?.id ?? e.user?.organisationId ?? e.apiKey?.organisationId;
  if (!id) throw new Error(`account event ${e.eventId} names no entity`);
  return id;
}

/**
 * The Kafka key of an event: the one entity it changes (`<organisation>:org`,
 * `<organisation>:user:<id>`, `<organisation>:key:<id>`), so compaction of the accounts topic keeps
 * each entity's latest snapshot, and a deleted user's tombstone removes every earlier one.
 */
export function accountEventKey(e: AccountEvent): string {
  const organisation = accountEventOrganisation(e);
  if (e.organisation) return `${organisation}:org`;
  if (e.user) return `${organisation}:user:${e.user.id}`;
  if (e.apiKey) return `${organisation}:key:${e.apiKey.id}`;
  throw new Error(`account event ${e.eventId} names no entity`);
}

export function userRecordKey(organisationId: string, userId: string): string {
  return `${organisationId}:user:${userId}`;
}

export interface AccountRecordKey {
  /** Null: the key names no organisation, so it could be any. */
  organisation: string | null;
  /** Absent for records written before keys named their entity (keyed by organisation only). */
  entity?: { kind: 'org' } | { kind: 'user' | 'key'; id: string };
}

/** Reads a record key of the accounts topic (entity keys, or the organisation-only keys of old records). */
export function parseAccountKey(key: Buffer | string | null | undefined): AccountRecordKey {
  const text = key === null || key === undefined ? '' : key.toString();
  const match = /^([A-Z0-9][A-Z0-9_-]{1,31})(?::(org|user|key)(?::(.+))?)?$/.exec(text);
  if (!match?.[1]) return { organisation: null };
  const [, organisation, kind, id] = match;
  if (kind === undefined) return { organisation };
  if (kind === 'org') return id === undefined ? { organisation, entity: { kind: 'org' } } : { organisation };
  return id === undefined ? { organisation } : { organisation, entity: { kind: kind as 'user' | 'key', id } };
}

const schemaFile = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'schemas',
  'avro',
  'account',
  'v2.avsc',
);

/**
 * The current account event schema (schemas/avro/account/v2: users carry createdAt and updatedAt,
 * defaulting to null, so v1 records decode through the resolver with both null); it is kept out of the fact-topic event kinds the history sink stores. */
export const ACCOUNT_SCHEMA: object = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;

/**
 * Avro with Confluent framing for account events, registered under the accounts topic's value
 * subject. Records written with another registered version are resolved to the current one.
 */
export class AccountCodec {
  private readonly type = avro.Type.forSchema(ACCOUNT_SCHEMA as avro.Schema);
  private readonly resolvers = new Map<number, Promise<avro.Resolver | null>>();
  private id: number | null = null;

  constructor(private readonly registry: SchemaRegistry) {}

  async register(topic: string): Promise<void> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(ACCOUNT_SCHEMA) },
      { subject: `${topic}-value` },
    );
    this.id = id;
  }

  encode(event: AccountEvent): Buffer {
    if (this.id === null) throw new Error('account schema not registered');
    const body = this.type.toBuffer(event);
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(this.id, 1);
    body.copy(frame, 5);
    return frame;
  }

  async decode(bytes: Buffer | null): Promise<AccountEvent> {
    if (!bytes || bytes.length < 6 || bytes.readUInt8(0) !== 0)
      throw new Error('not a Confluent-framed record');
    const id = bytes.readUInt32BE(1);
    const resolver = id === this.id ? null : await this.resolver(id);
    return (
      resolver ? this.type.fromBuffer(bytes.subarray(5), resolver) : this.type.fromBuffer(bytes.subarray(5))
    ) as AccountEvent;
  }

  private resolver(id: number): Promise<avro.Resolver | null> {
    let r = this.resolvers.get(id);
    if (!r) {
      r = this.registry.getSchema(id).then((schema) => {
        const writer = avro.Type.forSchema(JSON.parse(JSON.stringify(schema)) as avro.Schema);
        return this.type.equals(writer) ? null : this.type.createResolver(writer);
      });
      r.catch(() => this.resolvers.delete(id));
      this.resolvers.set(id, r);
    }
    return r;
  }
}
