import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './harness.ts';

// The merchant token-auth document (seed 003) against the real stack: base64 login, the token
// headers, X-Access-Token wherever Bearer works, /auth/refresh/token, logout with both headers.

let h: Harness;
let person: { email: string; password: string; id: string };

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

beforeAll(async () => {
  h = await createHarness('merchantauth', { rateLimits: { auth: { limit: 1000, windowMs: 60_000 } } });
  await h.organisation({ id: 'HUB', name: 'Hub', type: 'HUB' });
  person = await h.user('HUB', 'Admin', `merchant1-${Date.now()}@mailinator.com`);
});

afterAll(async () => {
  await h?.close();
});

async function merchantLogin() {
  return h.call('POST', '/api/v1/auth/login', {
    body: { email: b64(person.email), password: b64(person.password) },
  });
}

describe('merchant token auth', () => {
  it('signs in with the base64 email and password and answers both documents at once', async () => {
    const res = await merchantLogin();
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { data: Record<string, unknown> };
    expect(res.headers.get('x-access-token')).toBe(body.access_token);
    expect(res.headers.get('x-refresh-token')).toBe(body.refresh_token);
    expect(body.status).toBe(true);
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body.data).toMatchObject({
      id: person.id,
      role: 'Admin',
      email: person.email,
      firstName: 'Admin',
      lastName: 'user',
    });
    expect(Object.keys(body.data).sort()).toEqual(
      ['createdAt', 'email', 'firstName', 'id', 'lastName', 'role', 'updatedAt'].sort(),
    );
  });

  it('still signs in with a plain e-mail and password', async () => {
    const res = await h.login(person.email, person.password);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-access-token')).toBeTruthy();
  });

  it('names password in a 400 when the email is base64 and the password is not', async () => {
    const res = await h.call('POST', '/api/v1/auth/login', {
      body: { email: b64(person.email), password: 'not base64!' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; errors: { field: string }[] };
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.errors[0]?.field).toBe('password');
  });

  it('treats an e-mail without @ that does not decode to one with @ as sent (401, not 400)', async () => {
    const res = await h.call('POST', '/api/v1/auth/login', { body: { email: b64('nobody'), password: 'x' } });
    expect(res.status).toBe(401);
  });

  it('accepts X-Access-Token wherever Authorization: Bearer is', async () => {
    const access = (await merchantLogin()).headers.get('x-access-token') ?? '';
    const res = await h.call('GET', '/api/v1/organisations', { headers: { 'x-access-token': access } });
    expect(res.status).toBe(200);
    const none = await h.call('GET', '/api/v1/organisations', { headers: { 'x-access-token': 'nope' } });
    expect(none.status).toBe(401);
  });

  it('rotates X-Refresh-Token on /auth/refresh/token, and a reused one ends the session', async () => {
    const login = await merchantLogin();
    const first = login.headers.get('x-refresh-token') ?? '';
    const res = await h.call('POST', '/api/v1/auth/refresh/token', { headers: { 'x-refresh-token': first } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; refresh_token: string; status: boolean };
    expect(body.status).toBe(true);
    expect(res.headers.get('x-access-token')).toBe(body.access_token);
    expect(res.headers.get('x-refresh-token')).toBe(body.refresh_token);
    expect(body.refresh_token).not.toBe(first);
    const again = await h.call('GET', '/api/v1/organisations', {
      headers: { 'x-access-token': body.access_token },
    });
    expect(again.status).toBe(200);
    // Reuse of the first token: refused, and the whole family (the new pair too) is revoked.
    const reused = await h.call('POST', '/api/v1/auth/refresh/token', {
      headers: { 'x-refresh-token': first },
    });
    expect(reused.status).toBe(401);
    const after = await h.call('POST', '/api/v1/auth/refresh/token', {
      headers: { 'x-refresh-token': body.refresh_token },
    });
    expect(after.status).toBe(401);
  });

  it('answers 400 naming X-Refresh-Token when the header is missing', async () => {
    const res = await h.call('POST', '/api/v1/auth/refresh/token', {});
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('X-Refresh-Token');
  });

  it('logs out with the two headers and ends both tokens (and another session of the same person sent as X-Refresh-Token)', async () => {
    const a = await merchantLogin();
    const b = await merchantLogin();
    const access = a.headers.get('x-access-token') ?? '';
    const otherRefresh = b.headers.get('x-refresh-token') ?? '';
    const res = await h.call('POST', '/api/v1/auth/logout', {
      headers: { 'x-access-token': access, 'x-refresh-token': otherRefresh },
    });
    expect(res.status).toBe(200);
    expect(
      (await h.call('GET', '/api/v1/organisations', { headers: { 'x-access-token': access } })).status,
    ).toBe(401);
    for (const refresh of [a.headers.get('x-refresh-token') ?? '', otherRefresh]) {
      const r = await h.call('POST', '/api/v1/auth/refresh/token', {
        headers: { 'x-refresh-token': refresh },
      });
      expect(r.status).toBe(401);
    }
  });

  it('keeps forget and reset password working', async () => {
    const res = await h.call('POST', '/api/v1/auth/password/forget', { body: { email: person.email } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: boolean }).status).toBe(true);
  });
});
