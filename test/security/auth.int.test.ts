import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: { email: string; password: string; id: string };

beforeAll(async () => {
  // Auth limit raised so the lockout policy, not the per-IP limit, is what these tests meet.
  h = await createHarness('auth', { rateLimits: { auth: { limit: 1000, windowMs: 60_000 } } });
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  admin = await h.user('HUB', 'Admin');
});

afterAll(async () => {
  await h?.close();
});

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

async function login(email = admin.email, password = admin.password): Promise<Tokens> {
  const res = await h.login(email, password);
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

describe('login', () => {
  it('answers {access_token, refresh_token, expires_in} (with the merchant-auth status and data) and the token opens Admin routes', async () => {
    const tokens = await login();
    expect(Object.keys(tokens).sort()).toEqual([
      'access_token',
      'data',
      'expires_in',
      'refresh_token',
      'status',
    ]);
    expect(tokens.expires_in).toBeGreaterThan(0);
    const res = await h.call('GET', '/api/v1/organisations', { token: tokens.access_token });
    expect(res.status).toBe(200);
  });

  it('answers 401 to a wrong password and to an unknown e-mail alike', async () => {
    const wrong = await h.login(admin.email.replace('@', '+x@'), 'nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ detail: 'invalid e-mail or password', code: 'UNAUTHORIZED' });
  });

  it('answers 400 to a body that is not JSON or has unknown fields', async () => {
    expect((await h.call('POST', '/api/v1/auth/login', { raw: '{"email":' })).status).toBe(400);
    expect(
      (await h.call('POST', '/api/v1/auth/login', { body: { email: 'a@b.c', password: 'x', admin: true } }))
        .status,
    ).toBe(400);
  });
});

describe('lockout', () => {
  it('locks an account with 423 after 5 failures, even for the right password, with Retry-After', async () => {
    const user = await h.user('HUB', 'Auditor');
    for (let i = 0; i < 5; i++) expect((await h.login(user.email, 'wrong password')).status).toBe(401);
    const locked = await h.login(user.email, user.password);
    expect(locked.status).toBe(423);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await locked.json()).code).toBe('ACCOUNT_LOCKED');
  });
});

describe('refresh rotation', () => {
  it('rotates once; reusing the old refresh token revokes the whole family, new tokens included', async () => {
    const first = await login();
    const rotated = await h.call('POST', '/api/v1/auth/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(rotated.status).toBe(200);
    const second = (await rotated.json()) as Tokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await h.call('GET', '/api/v1/organisations', { token: second.access_token })).status).toBe(200);

    const reuse = await h.call('POST', '/api/v1/auth/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(reuse.status).toBe(401);
    // The family is gone: the successor's refresh and access tokens stop working too.
    expect(
      (await h.call('POST', '/api/v1/auth/refresh', { body: { refresh_token: second.refresh_token } }))
        .status,
    ).toBe(401);
    expect((await h.call('GET', '/api/v1/organisations', { token: second.access_token })).status).toBe(401);
  });

  it('refuses an access token offered as a refresh token', async () => {
    const tokens = await login();
    expect(
      (await h.call('POST', '/api/v1/auth/refresh', { body: { refresh_token: tokens.access_token } })).status,
    ).toBe(401);
  });
});

describe('logout', () => {
  it("revokes the access token's JTI at once, and its refresh token", async () => {
    const tokens = await login();
    const out = await h.call('POST', '/api/v1/auth/logout', { token: tokens.access_token });
    expect(out.status).toBe(200);
    expect((await h.call('GET', '/api/v1/organisations', { token: tokens.access_token })).status).toBe(401);
    expect(
      (await h.call('POST', '/api/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } }))
        .status,
    ).toBe(401);
    // Another session of the same person is untouched.
    const other = await login();
    expect((await h.call('GET', '/api/v1/organisations', { token: other.access_token })).status).toBe(200);
  });
});

describe('password reset', () => {
  it('sends a single-use code through the outbox; the new password works, the old one and old sessions do not', async () => {
    const user = await h.user('HUB', 'Analyst');
    const before = await login(user.email, user.password);
    const forget = await h.call('POST', '/api/v1/auth/password/forget', { body: { email: user.email } });
    expect(forget.status).toBe(200);
    const unknown = await h.call('POST', '/api/v1/auth/password/forget', {
      body: { email: 'nobody@test.local' },
    });
    expect(await unknown.json()).toEqual(await forget.json());
    const message = h.outbox.find((n) => n.to === user.email);
    const code = message?.data.resetCode ?? '';
    expect(code).toMatch(/^\d{8}$/);

    const weak = await h.call('POST', '/api/v1/auth/password/reset', {
      body: { resetCode: code, password: 'short' },
    });
    expect(weak.status).toBe(400);
    const newPassword = 'a brand new long passphrase';
    const reset = await h.call('POST', '/api/v1/auth/password/reset', {
      body: { resetCode: code, password: newPassword },
    });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({ status: true, message: 'Password reset successfully' });
    const again = await h.call('POST', '/api/v1/auth/password/reset', {
      body: { resetCode: code, password: newPassword },
    });
    expect(again.status).toBe(400);

    expect((await h.login(user.email, user.password)).status).toBe(401);
    expect((await h.login(user.email, newPassword)).status).toBe(200);
    expect((await h.call('POST', '/api/v1/auth/logout', { token: before.access_token })).status).toBe(401);
  });
});
