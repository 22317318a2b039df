import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_SCHEMA, type AccountEvent } from './accounts.ts';

const v1 = JSON.parse(
  readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'avro', 'account', 'v1.avsc'),
    'utf8',
  ),
) as avro.Schema;

const user = {
  id: 'u1',
  organisationId: 'BANKA',
  email: 'a@b.ng',
  name: 'Ada Obi',
  role: 'ServiceProvider',
  passwordHash: '$argon2id$x',
  passwordChangedAt: 1_700_000_000_000,
  active: true,
};
const event = (u: object): AccountEvent =>
  ({
    eventId: 'e1',
    source: 'API',
    type: 'USER_UPSERTED',
    actor: 'system',
    organisation: null,
    user: u,
    apiKey: null,
    occurredAt: 1,
    receivedAt: 2,
  }) as AccountEvent;

describe('account records', () => {
  const current = avro.Type.forSchema(ACCOUNT_SCHEMA as avro.Schema);

  it('keep a user’s createdAt and updatedAt', () => {
    const written = event({ ...user, createdAt: 1_600_000_000_000, updatedAt: 1_650_000_000_000 });
    const read = current.fromBuffer(current.toBuffer(written)) as AccountEvent;
    expect(read.user?.createdAt).toBe(1_600_000_000_000);
    expect(read.user?.updatedAt).toBe(1_650_000_000_000);
  });

  it('decode a user written before them (account schema v1) with both null', () => {
    const old = avro.Type.forSchema(v1);
    const read = current.fromBuffer(old.toBuffer(event(user)), current.createResolver(old)) as AccountEvent;
    expect(read.user).toMatchObject({ ...user, createdAt: null, updatedAt: null });
  });

  it('encode a record that leaves them out as null', () => {
    const read = current.fromBuffer(current.toBuffer(event(user))) as AccountEvent;
    expect(read.user?.createdAt).toBeNull();
  });
});
