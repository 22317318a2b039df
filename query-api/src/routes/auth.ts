import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  credentialHeader,
  jsonBody,
  reconixError,
  reconixErrors,
  requireAuth,
  summarise,
} from '@hub/ingest';
import { requestMeta } from '@hub/security';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiApp, ApiContext, ApiEnv } from '../context.ts';
import {
  loginCredentials,
  MerchantUser,
  merchantUser,
  setTokenHeaders,
  tokenHeaders,
} from './merchant-auth.ts';

const BASE = '/api/v1/auth';
const BODY_BYTES = 8 * 1024;

const LoginRequest = z
  .object({
    email: z.string().min(3).max(360).openapi({
      example: 'operator@reconix.ng',
      description:
        'The e-mail address, or (merchant-auth style) its base64: an e-mail without @ that is base64 of text with @ is decoded, and then password is read as base64 too',
    }),
    password: z.string().min(1).max(360).openapi({ example: 'your-password-here' }),
  })
  .strict()
  .openapi('LoginRequest', {
    example: { email: 'bWVyY2hhbnQxQG1haWxpbmF0b3IuY29t', password: 'cGFzc3dvcmQ=' },
  });

const TokenResponse = z
  .object({
    access_token: z.string().openapi({ example: 'eyJ...' }),
    refresh_token: z.string().openapi({ example: 'eyJ...' }),
    expires_in: z
      .number()
      .int()
      .openapi({ example: 900, description: 'Seconds until the access token expires' }),
  })
  .openapi('TokenResponse');

const LoginResponse = TokenResponse.extend({
  status: z.literal(true),
  data: MerchantUser,
}).openapi('LoginResponse');

const MerchantTokenResponse = TokenResponse.extend({ status: z.literal(true) }).openapi(
  'MerchantTokenResponse',
);

const RefreshRequest = z
  .object({ refresh_token: z.string().min(1).max(4096).openapi({ example: 'eyJ...' }) })
  .strict()
  .openapi('RefreshRequest');

const ForgetRequest = z
  .object({ email: z.string().min(3).max(254) })
  .strict()
  .openapi('ForgetPasswordRequest');
const ResetRequest = z
  .object({
    resetCode: z.string().min(1).max(32).openapi({ example: '31224890' }),
    password: z.string().min(1).max(256).openapi({ example: 'a new long passphrase' }),
  })
  .strict()
  .openapi('ResetPasswordRequest');
const ChangeRequest = z
  .object({
    currentPassword: z.string().min(1).max(256).openapi({ example: 'the current passphrase' }),
    newPassword: z.string().min(1).max(256).openapi({ example: 'a new long passphrase' }),
  })
  .strict()
  .openapi('ChangePasswordRequest');
const StatusMessage = z.object({ status: z.boolean(), message: z.string() }).openapi('StatusMessage');

type Guard = MiddlewareHandler<ApiEnv>;
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const readBody = jsonBody(BODY_BYTES);

const loginRoute = createRoute({
  method: 'post',
  path: `${BASE}/login`,
  tags: ['Auth'],
  summary:
    "Authenticate (Reconix login and the merchant-auth document's base64 login); returns a JWT access token and a one-time refresh token, in the body and in X-Access-Token / X-Refresh-Token",
  middleware: [readBody],
  request: { body: { content: json(LoginRequest), required: true } },
  responses: {
    200: { description: 'Signed in', headers: tokenHeaders, content: json(LoginResponse) },
    ...reconixErrors([400, 401, 413, 415, 423, 429], {
      400: 'Invalid body',
      401: 'Invalid credentials',
      423: 'Account locked after repeated failures; retry after Retry-After',
      429: 'Rate limited (5 per minute)',
    }),
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: `${BASE}/refresh`,
  tags: ['Auth'],
  summary: 'Rotate a refresh token (one-time use; reusing an old one revokes the whole session)',
  middleware: [readBody],
  request: { body: { content: json(RefreshRequest), required: true } },
  responses: {
    200: { description: 'New token pair', content: json(TokenResponse) },
    ...reconixErrors([400, 401, 413, 415, 429], {
      400: 'Invalid body',
      401: 'Unknown, expired, used or revoked refresh token',
    }),
  },
});

const merchantRefreshRoute = createRoute({
  method: 'post',
  path: `${BASE}/refresh/token`,
  tags: ['Auth'],
  summary:
    'Merchant-auth refresh: rotate the X-Refresh-Token header (same one-time use and reuse rules as /auth/refresh)',
  request: {
    headers: z.object({
      'x-refresh-token': z
        .string()
        .trim()
        .min(1, { error: 'is required' })
        .openapi({ example: 'eyJ...', description: 'The refresh token' }),
    }),
  },
  responses: {
    200: {
      description: 'New token pair, in the headers and the body',
      headers: tokenHeaders,
      content: json(MerchantTokenResponse),
    },
    ...reconixErrors([400, 401, 429], {
      400: 'X-Refresh-Token header missing',
      401: 'Unknown, expired, used or revoked refresh token',
    }),
  },
});

const logoutRouteOf = (anyone: Guard) =>
  createRoute({
    method: 'post',
    path: `${BASE}/logout`,
    tags: ['Auth'],
    summary:
      "Revoke the access token's JTI and its session's refresh token (Authorization: Bearer or the merchant-auth X-Access-Token / X-Refresh-Token headers)",
    security: [{ Bearer: [] }, { AccessToken: [] }],
    middleware: [anyone],
    responses: {
      200: { description: 'Signed out', content: json(StatusMessage) },
      ...reconixErrors([400, 401], {
        400: 'Not a session (API keys are revoked through /api-keys)',
        401: 'Missing or invalid token',
      }),
    },
  });

const forgetRoute = createRoute({
  method: 'post',
  path: `${BASE}/password/forget`,
  tags: ['Auth'],
  summary: 'Request a single-use password reset code by e-mail',
  middleware: [readBody],
  request: { body: { content: json(ForgetRequest), required: true } },
  responses: {
    200: {
      description: 'Sent if the account exists (the answer is the same either way)',
      content: json(StatusMessage),
    },
    ...reconixErrors([400, 413, 415, 429], { 400: 'Invalid body' }),
  },
});

const resetRoute = createRoute({
  method: 'post',
  path: `${BASE}/password/reset`,
  tags: ['Auth'],
  summary: 'Set a new password with a reset code; ends every session of the account',
  middleware: [readBody],
  request: { body: { content: json(ResetRequest), required: true } },
  responses: {
    200: { description: 'Password changed', content: json(StatusMessage) },
    ...reconixErrors([400, 413, 415, 429], { 400: 'Invalid, used or expired code, or a weak password' }),
  },
});

const changeRouteOf = (anyone: Guard) =>
  createRoute({
    method: 'post',
    path: `${BASE}/password/change`,
    tags: ['Auth'],
    summary: "Change the signed-in person's password; ends every session of the account",
    security: [{ Bearer: [] }],
    // The caller is checked before the body is read: an API key has no password to change.
    middleware: [anyone, personOnly, readBody],
    request: { body: { content: json(ChangeRequest), required: true } },
    responses: {
      200: { description: 'Password changed', content: json(StatusMessage) },
      ...reconixErrors([400, 401, 413, 415, 429], {
        400: 'Invalid body, a weak new password, or not a session',
        401: 'Missing or invalid token, or the current password is wrong',
      }),
    },
  });

/** A password belongs to a signed-in person; an API key is told so before its body is read. */
const personOnly: Guard = async (c, next) => {
  if (!c.get('principal').userId)
    return reconixError(c, 'VALIDATION_ERROR', 'a password belongs to a signed-in person, not to an API key');
  await next();
};

function tooMany(c: Context<ApiEnv>, retryAfterSeconds: number, message: string) {
  c.header('Retry-After', String(retryAfterSeconds));
  return reconixError(c, 'RATE_LIMITED', message);
}

/** Reconix authentication for people: login, refresh, logout, forgotten password. */
export function registerAuthRoutes(app: ApiApp, ctx: ApiContext): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'AccessToken', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Access-Token',
    description: 'X-Access-Token: <access token>, accepted wherever Authorization: Bearer is',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Authorization: Bearer <access token from /api/v1/auth/login>',
  });
  const security = ctx.security;
  const anyone = requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE });

  app.openapi(loginRoute, async (c) => {
    const { email, password } = c.req.valid('json');
    const credentials = loginCredentials(email, password);
    if (!credentials.ok)
      return reconixError(c, 'VALIDATION_ERROR', summarise(credentials.errors), credentials.errors);
    const result = await security.login(credentials.email, credentials.password, requestMeta(c));
    if (result.ok) {
      setTokenHeaders(c, result.tokens);
      return c.json({ ...result.tokens, status: true as const, data: merchantUser(result.user) }, 200);
    }
    if (result.status === 429)
      return tooMany(
        c,
        result.retryAfterSeconds,
        result.message ?? 'too many login attempts for this account',
      );
    if (result.status === 423) {
      c.header('Retry-After', String(result.retryAfterSeconds));
      return reconixError(
        c,
        'ACCOUNT_LOCKED',
        'account locked after repeated failed logins; try again later or reset the password',
      );
    }
    return reconixError(c, 'UNAUTHORIZED', 'invalid e-mail or password');
  });

  app.openapi(refreshRoute, async (c) => {
    const tokens = await security.refresh(c.req.valid('json').refresh_token, requestMeta(c));
    if (!tokens)
      return reconixError(
        c,
        'UNAUTHORIZED',
        'refresh token is not valid (unknown, expired, used or revoked); sign in again',
      );
    setTokenHeaders(c, tokens);
    return c.json(tokens, 200);
  });

  app.openapi(merchantRefreshRoute, async (c) => {
    const tokens = await security.refresh(c.req.valid('header')['x-refresh-token'], requestMeta(c));
    if (!tokens)
      return reconixError(
        c,
        'UNAUTHORIZED',
        'X-Refresh-Token is not valid (unknown, expired, used or revoked); sign in again',
      );
    setTokenHeaders(c, tokens);
    return c.json({ ...tokens, status: true as const }, 200);
  });

  app.openapi(logoutRouteOf(anyone), async (c) => {
    const token = /^Bearer\s+(\S+)$/i.exec(credentialHeader(c) ?? '')?.[1] ?? '';
    if (!c.get('principal').sessionId)
      return reconixError(
        c,
        'VALIDATION_ERROR',
        'logout ends a session; API keys are revoked through /api/v1/api-keys',
      );
    const refreshToken = c.req.header('x-refresh-token')?.trim() || undefined;
    if (!(await security.logout(c.get('principal'), token, requestMeta(c), refreshToken)))
      return reconixError(c, 'UNAUTHORIZED', 'session is not valid');
    return c.json({ status: true, message: 'Logged out' }, 200);
  });

  app.openapi(forgetRoute, async (c) => {
    const sent = await security.forgotPassword(c.req.valid('json').email, requestMeta(c));
    if (!sent.ok) return tooMany(c, sent.retryAfterSeconds, sent.message);
    return c.json(
      {
        status: true,
        message: 'If the account exists, a reset code has been sent to its e-mail. It expires in 60 minutes.',
      },
      200,
    );
  });

  app.openapi(resetRoute, async (c) => {
    const { resetCode, password } = c.req.valid('json');
    const result = await security.resetPassword(resetCode, password, requestMeta(c));
    if (result === 'OK') return c.json({ status: true, message: 'Password reset successfully' }, 200);
    if (result === 'INVALID_CODE')
      return reconixError(c, 'VALIDATION_ERROR', 'resetCode: is unknown, used or expired', [
        { field: 'resetCode', message: 'is unknown, used or expired' },
      ]);
    return reconixError(c, 'VALIDATION_ERROR', `password: ${result}`, [
      { field: 'password', message: result },
    ]);
  });

  app.openapi(changeRouteOf(anyone), async (c) => {
    const { currentPassword, newPassword } = c.req.valid('json');
    const result = await security.changePassword(
      c.get('principal'),
      currentPassword,
      newPassword,
      requestMeta(c),
    );
    if (result === 'OK')
      return c.json(
        { status: true, message: 'Password changed; every session has ended, sign in again' },
        200,
      );
    if (result === 'WRONG_PASSWORD')
      return reconixError(c, 'UNAUTHORIZED', 'currentPassword: is not the current password', [
        { field: 'currentPassword', message: 'is not the current password' },
      ]);
    if (result === 'NOT_A_PERSON') return reconixError(c, 'UNAUTHORIZED', 'session is not valid');
    return reconixError(c, 'VALIDATION_ERROR', `newPassword: ${result.problem}`, [
      { field: 'newPassword', message: result.problem },
    ]);
  });
}
