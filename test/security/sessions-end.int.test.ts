import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

/** The security layer's clock: real time unless a test pins it. */
let pinned: number | null = null;
const clock = () => pinned ?? Date.now();

let h: Harness;
let adminToken: string;
let bankKey: string;

interface Tokens {
  access_token: string;
  refresh_token: string;
}

async function login(email: string, password: string): Promise<Tokens> {
  const res = await h.login(email, password);
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

const refresh = (t: Tokens) =>
  h.call('POST', '/api/v1/auth/refresh', { body: { refresh_token: t.refresh_token } });
/** A route every signed-in role may call: 200 while the session stands. */
const whoami = (t: Tokens) => h.call('POST', '/api/v1/auth/logout', { token: t.access_token });
const listOrgs = (t: Tokens) => h.call('GET', '/api/v1/organisations', { token: t.access_token });

async function resetPassword(email: string, password: string): Promise<void> {
  const sent = h.outbox.length;
  expect((await h.call('POST', '/api/v1/auth/password/forget', { body: { email } })).status).toBe(200);
  const code = h.outbox.slice(sent).find((n) => n.to === email)?.data.resetCode;
  expect(code).toMatch(/^\d{8}$/);
  const res = await h.call('POST', '/api/v1/auth/password/reset', { body: { resetCode: code, password } });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  h = await createHarness(
    'sessions',
    { now: clock, rateLimits: { auth: { limit: 10_000, windowMs: 60_000 } } },
    { history: false },
  );
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  bankKey = await h.organisation({ id: 'BANKA', name: 'Bank A', type: 'SERVICE_PROVIDER' });
  const admin = await h.user('HUB', 'Admin');
  adminToken = (await login(admin.email, admin.password)).access_token;
});

afterAll(async () => {
  await h?.close();
});

describe('a password reset', () => {
  it('ends every session: a refresh token issued before it mints nothing afterwards', async () => {
    const user = await h.user('HUB', 'Analyst');
    const before = await login(user.email, user.password);
    const rotatedBefore = (await (await refresh(before)).json()) as Tokens;
    await resetPassword(user.email, 'a brand new long passphrase');
    expect((await refresh(rotatedBefore)).status).toBe(401);
    expect((await whoami(rotatedBefore)).status).toBe(401);
    const after = await login(user.email, 'a brand new long passphrase');
    expect((await refresh(after)).status).toBe(200);
  });
});

describe('a password change by the signed-in person', () => {
  it('needs the current password and a strong new one, then ends every session', async () => {
    const user = await h.user('HUB', 'Auditor');
    const other = await login(user.email, user.password);
    const mine = await login(user.email, user.password);
    const change = (body: unknown, token = mine.access_token) =>
      h.call('POST', '/api/v1/auth/password/change', { token, body });

    const wrong = await change({ currentPassword: 'not it', newPassword: 'a long new passphrase' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe(
      'currentPassword',
    );
    const weak = await change({ currentPassword: user.password, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('newPassword');
    const unknownField = await change({ currentPassword: user.password, newPassword: 'x', admin: true });
    expect(unknownField.status).toBe(400);
    const byKey = await change({ currentPassword: 'a', newPassword: 'a long new passphrase' }, bankKey);
    expect(byKey.status).toBe(400);

    expect(
      (await change({ currentPassword: user.password, newPassword: 'a long new passphrase' })).status,
    ).toBe(200);
    for (const t of [mine, other]) {
      expect((await refresh(t)).status).toBe(401);
      expect((await whoami(t)).status).toBe(401);
    }
    expect((await h.login(user.email, user.password)).status).toBe(401);
    expect((await whoami(await login(user.email, 'a long new passphrase'))).status).toBe(200);
  });
});

describe('an admin disabling a user', () => {
  it('ends every session, and re-enabling the user does not bring the old ones back', async () => {
    const user = await h.user('HUB', 'Analyst');
    const before = await login(user.email, user.password);
    const patch = (body: unknown) => h.call('PATCH', `/api/v1/users/${user.id}`, { token: adminToken, body });
    const disabled = await patch({ active: false });
    expect(disabled.status).toBe(200);
    expect(((await disabled.json()) as { active: boolean }).active).toBe(false);
    expect((await refresh(before)).status).toBe(401);
    expect((await whoami(before)).status).toBe(401);
    expect((await h.login(user.email, user.password)).status).toBe(401);

    expect((await patch({ active: true })).status).toBe(200);
    expect((await refresh(before)).status).toBe(401);
    expect((await whoami(before)).status).toBe(401);
    expect((await whoami(await login(user.email, user.password))).status).toBe(200);
  });

  it('answers 400 naming the field for a bad change, 404 for an unknown user, 403 for a non-Admin', async () => {
    const user = await h.user('HUB', 'Analyst');
    const own = await login(user.email, user.password);
    const empty = await h.call('PATCH', `/api/v1/users/${user.id}`, { token: adminToken, body: {} });
    expect(empty.status).toBe(400);
    const badRole = await h.call('PATCH', `/api/v1/users/${user.id}`, {
      token: adminToken,
      body: { role: 'Operator' },
    });
    expect(badRole.status).toBe(400);
    expect(((await badRole.json()) as { detail: string }).detail).toMatch(/^role:/);
    const badType = await h.call('PATCH', `/api/v1/users/${user.id}`, {
      token: adminToken,
      body: { active: 'no' },
    });
    expect(badType.status).toBe(400);
    expect(((await badType.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('active');
    expect(
      (await h.call('PATCH', '/api/v1/users/nobody', { token: adminToken, body: { active: false } })).status,
    ).toBe(404);
    expect(
      (
        await h.call('PATCH', `/api/v1/users/${user.id}`, {
          token: own.access_token,
          body: { active: false },
        })
      ).status,
    ).toBe(403);
  });
});

describe("an admin changing a user's role", () => {
  it('ends every session: a token issued for the old role works no more', async () => {
    const user = await h.user('HUB', 'Admin');
    const before = await login(user.email, user.password);
    expect((await listOrgs(before)).status).toBe(200);
    const res = await h.call('PATCH', `/api/v1/users/${user.id}`, {
      token: adminToken,
      body: { role: 'Analyst' },
    });
    expect(res.status).toBe(200);
    expect((await listOrgs(before)).status).toBe(401);
    expect((await refresh(before)).status).toBe(401);
    // A new session carries the new role: an Analyst may not list organisations.
    expect((await listOrgs(await login(user.email, user.password))).status).toBe(403);
  });
});

describe('a login in the same second as a password change', () => {
  it('works: the token carries its issue time in milliseconds', async () => {
    const user = await h.user('HUB', 'Analyst');
    const second = Math.floor(Date.now() / 1000) * 1000 + 1000;
    try {
      pinned = second + 100;
      await resetPassword(user.email, 'a same-second new passphrase');
      pinned = second + 600;
      const tokens = await login(user.email, 'a same-second new passphrase');
      expect((await listOrgs(tokens)).status).toBe(403); // a valid Analyst session: 403, not 401
      expect((await refresh(tokens)).status).toBe(200);
    } finally {
      pinned = null;
    }
  });
});
