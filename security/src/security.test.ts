import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_SCHEMA,
  type AccountEvent,
  accountEventKey,
  accountEventOrganisation,
  parseAccountKey,
} from './accounts.ts';
import { generateApiKey, hashApiKey, looksLikeApiKey, requestKeyHash, sameHash } from './api-keys.ts';
import { TtlCache } from './cache.ts';
import { sessionStillValid } from './credentials.ts';
import { passwordProblem } from './passwords.ts';
import { rateScopeOf } from './rate-limit.ts';

describe('API keys', () => {
  it('generates keys that carry their prefix, hash to 64 hex digits and never repeat', () => {
    const keys = Array.from({ length: 100 }, () => generateApiKey());
    for (const k of keys) {
      expect(looksLikeApiKey(k.key)).toBe(true);
      expect(k.key.startsWith(`${k.prefix}_`)).toBe(true);
      expect(k.hash).toBe(hashApiKey(k.key));
      expect(k.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(new Set(keys.map((k) => k.key)).size).toBe(100);
  });

  it('tells keys from session tokens and garbage', () => {
    expect(looksLikeApiKey('eyJhbGciOiJIUzI1NiJ9.e30.sig')).toBe(false);
    expect(looksLikeApiKey('hub_zzzzzzzz_short')).toBe(false);
  });

  it('compares hashes in constant time and refuses different lengths', () => {
    const h = hashApiKey('a');
    expect(sameHash(h, hashApiKey('a'))).toBe(true);
    expect(sameHash(h, hashApiKey('b'))).toBe(false);
    expect(sameHash(h, h.slice(0, 10))).toBe(false);
  });
});

describe('TtlCache', () => {
  it('expires entries after the TTL and evicts the oldest beyond its bound', () => {
    let now = 0;
    const cache = new TtlCache<number>(100, 2, () => now);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toEqual({ value: 3 });
    now = 100;
    expect(cache.get('c')).toBeUndefined();
  });

  it('caches a known absence (null) as a value', () => {
    const cache = new TtlCache<number | null>(100);
    cache.set('missing', null);
    expect(cache.get('missing')).toEqual({ value: null });
  });
});

describe('rate-limit scopes', () => {
  it('maps paths to the Reconix table and the verify plan', () => {
    expect(rateScopeOf('/api/v1/auth/login')).toBe('auth');
    // Data-subject routes declare their per-principal scopes themselves (Security.limit).
    expect(rateScopeOf('/api/v1/data-subject/privacy-policy')).toBe('general');
    expect(rateScopeOf('/api/v1/phone/api/phone-numbers/verify/bulk')).toBe('verify');
    expect(rateScopeOf('/api/v1/identity/lookup')).toBe('general');
    expect(rateScopeOf('/health')).toBeNull();
    expect(rateScopeOf('/api/v1/health/live')).toBeNull();
  });
});

describe('passwords', () => {
  it('asks for at least 12 characters', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('a long enough passphrase')).toBeNull();
    expect(passwordProblem(undefined)).toBe('is required');
  });
});

describe('account event schema', () => {
  const type = avro.Type.forSchema(ACCOUNT_SCHEMA as avro.Schema);
  const event: AccountEvent = {
    eventId: 'e1',
    source: 'API',
    type: 'API_KEY_REVOKED',
    actor: 'user:1',
    organisation: null,
    user: null,
    apiKey: {
      id: 'k1',
      organisationId: 'BANKA',
      name: 'prod',
      prefix: 'hub_01234567',
      hash: hashApiKey('x'),
      createdAt: 1,
      createdBy: 'user:1',
      expiresAt: null,
      revokedAt: 2,
    },
    occurredAt: 2,
    receivedAt: 2,
  };

  it('round-trips an event, keys it by its entity and places it by organisation', () => {
    expect(type.fromBuffer(type.toBuffer(event))).toEqual(event);
    expect(accountEventKey(event)).toBe('BANKA:key:k1');
    expect(accountEventOrganisation(event)).toBe('BANKA');
  });

  it('reads entity keys and the organisation-only keys of older records', () => {
    expect(parseAccountKey('BANKA:user:u-1')).toEqual({
      organisation: 'BANKA',
      entity: { kind: 'user', id: 'u-1' },
    });
    expect(parseAccountKey(Buffer.from('BANKA:org'))).toEqual({
      organisation: 'BANKA',
      entity: { kind: 'org' },
    });
    expect(parseAccountKey('BANKA')).toEqual({ organisation: 'BANKA' });
    expect(parseAccountKey(null)).toEqual({ organisation: null });
    expect(parseAccountKey('not a key')).toEqual({ organisation: null });
  });

  it('has no field that could hold a password or a key in clear', () => {
    const text = JSON.stringify(ACCOUNT_SCHEMA);
    expect(text).not.toMatch(/"name":\s*"(password|key|secret)"/);
  });
});

describe('request key hashes', () => {
  it('gives the same hash as hashApiKey, for new and remembered keys', () => {
    const { key, hash } = generateApiKey();
    expect(requestKeyHash(key)).toBe(hash);
    expect(requestKeyHash(key)).toBe(hash);
    expect(requestKeyHash(`${key}x`)).toBe(hashApiKey(`${key}x`));
  });
});

describe('session validity', () => {
  const user = { active: true, passwordChangedAt: 1_700_000_000_500, role: 'Admin' as const };

  it('accepts a token issued later in the same second as the password change', () => {
    expect(sessionStillValid(user, { ims: 1_700_000_000_700, role: 'Admin' })).toBe(true);
  });

  it('refuses a token issued before the password change, even within the same second', () => {
    expect(sessionStillValid(user, { ims: 1_700_000_000_300, role: 'Admin' })).toBe(false);
  });

  it('refuses a token issued for another role and any token of a disabled user', () => {
    expect(sessionStillValid(user, { ims: 1_700_000_001_000, role: 'Auditor' })).toBe(false);
    expect(sessionStillValid({ ...user, active: false }, { ims: 1_700_000_001_000, role: 'Admin' })).toBe(
      false,
    );
    expect(sessionStillValid(null, { ims: 1_700_000_001_000, role: 'Admin' })).toBe(false);
  });
});
