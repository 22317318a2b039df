import { createRoute, z } from '@hono/zod-openapi';
import {
  ANY_ROLE,
  credentialHeader,
  ReconixErrorBody,
  readJsonBody,
  reconixError,
  requireAuth,
  summarise,
} from '@hub/ingest';
import { requestMeta } from '@hub/security';
import type { Context } from 'hono';
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

// The one Reconix error body, with the runtime's code enum.
const ErrorBody = ReconixErrorBody;
const errorContent = { 'application/json': { schema: ErrorBody } };

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

const loginRoute = createRoute({
  method: 'post',
  path: `${BASE}/login`,
  tags: ['Auth'],
  summary:
    "Authenticate (Reconix login and the merchant-auth document's base64 login); returns a JWT access token and a one-time refresh token, in the body and in X-Access-Token / X-Refresh-Token",
  request: { body: { content: { 'application/json': { schema: LoginRequest } }, required: true } },
  responses: {
    200: {
      description: 'Signed in',
      headers: tokenHeaders,
      content: { 'application/json': { schema: LoginResponse } },
    },
    400: { description: 'Invalid body', content: errorContent },
    401: { description: 'Invalid credentials', content: errorContent },
    423: {
      description: 'Account locked after repeated failures; retry after Retry-After',
      content: errorContent,
    },
    429: { description: 'Rate limited (5 per minute)', content: errorContent },
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: `${BASE}/refresh`,
  tags: ['Auth'],
  summary: 'Rotate a refresh token (one-time use; reusing an old one revokes the whole session)',
  request: { body: { content: { 'application/json': { schema: RefreshRequest } }, required: true } },
  responses: {
    200: { description: 'New token pair', content: { 'application/json': { schema: TokenResponse } } },
    400: { description: 'Invalid body', content: errorContent },
    401: { description: 'Unknown, expired, used or revoked refresh token', content: errorContent },
    429: { description: 'Rate limited', content: errorContent },
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
      'x-refresh-token': z.string().openapi({ example: 'eyJ...', description: 'The refresh token' }),
    }),
  },
  responses: {
    200: {
      description: 'New token pair, in the headers and the body',
      headers: tokenHeaders,
      content: { 'application/json': { schema: MerchantTokenResponse } },
    },
    400: { description: 'X-Refresh-Token header missing', content: errorContent },
    401: { description: 'Unknown, expired, used or revoked refresh token', content: errorContent },
    429: { description: 'Rate limited', content: errorContent },
  },
});

const logoutRoute = createRoute({
  method: 'post',
  path: `${BASE}/logout`,
  tags: ['Auth'],
  summary:
    "Revoke the access token's JTI and its session's refresh token (Authorization: Bearer or the merchant-auth X-Access-Token / X-Refresh-Token headers)",
  security: [{ Bearer: [] }, { AccessToken: [] }],
  responses: {
    200: { description: 'Signed out', content: { 'application/json': { schema: StatusMessage } } },
    400: { description: 'Not a session (API keys are revoked through /api-keys)', content: errorContent },
    401: { description: 'Missing or invalid token', content: errorContent },
  },
});

const forgetRoute = createRoute({
  method: 'post',
  path: `${BASE}/password/forget`,
  tags: ['Auth'],
  summary: 'Request a single-use password reset code by e-mail',
  request: { body: { content: { 'application/json': { schema: ForgetRequest } }, required: true } },
  responses: {
    200: {
      description: 'Sent if the account exists (the answer is the same either way)',
      content: { 'application/json': { schema: StatusMessage } },
    },
    400: { description: 'Invalid body', content: errorContent },
    429: { description: 'Rate limited', content: errorContent },
  },
});

const resetRoute = createRoute({
  method: 'post',
  path: `${BASE}/password/reset`,
  tags: ['Auth'],
  summary: 'Set a new password with a reset code; ends every session of the account',
  request: { body: { content: { 'application/json': { schema: ResetRequest } }, required: true } },
  responses: {
    200: { description: 'Password changed', content: { 'application/json': { schema: StatusMessage } } },
    400: { description: 'Invalid, used or expired code, or a weak password', content: errorContent },
    429: { description: 'Rate limited', content: errorContent },
  },
});

const changeRoute = createRoute({
  method: 'post',
  path: `${BASE}/password/change`,
  tags: ['Auth'],
  summary: "Change the signed-in person's password; ends every session of the account",
  security: [{ Bearer: [] }],
  request: { body: { content: { 'application/json': { schema: ChangeRequest } }, required: true } },
  responses: {
    200: { description: 'Password changed', content: { 'application/json': { schema: StatusMessage } } },
    400: { description: 'Invalid body, a weak new password, or not a session', content: errorContent },
    401: { description: 'Missing or invalid token, or the current password is wrong', content: errorContent },
    429: { description: 'Rate limited', content: errorContent },
  },
});

function tooMany(c: Context<ApiEnv>, retryAfterSeconds: number, message: string) {
  c.header('Retry-After', String(retryAfterSeconds));
  return reconixError(c, 'RATE_LIMITED', message);
}

async function body<T extends z.ZodType>(
  c: Context<ApiEnv>,
  schema: T,
): Promise<{ ok: true; value: z.infer<T> } | { ok: false; response: Response }> {
  const read = await readJsonBody(c, BODY_BYTES);
  if (!read.ok) return { ok: false, response: reconixError(c, read.code, read.message) };
  const parsed = schema.safeParse(read.value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      field: i.path.join('.') || 'body',
      message: i.message,
    }));
    return { ok: false, response: reconixError(c, 'VALIDATION_ERROR', summarise(errors), errors) };
  }
  return { ok: true, value: parsed.data };
}

/** Reconix authentication for people: login, refresh, logout, forgotten password. */
export function registerAuthRoutes(app: ApiApp, ctx: ApiContext): void {
  for (const route of [
    loginRoute,
    refreshRoute,
    merchantRefreshRoute,
    logoutRoute,
    forgetRoute,
    resetRoute,
    changeRoute,
  ])
    app.openAPIRegistry.registerPath(route);
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

  app.post(loginRoute.path, async (c) => {
    const b = await body(c, LoginRequest);
    if (!b.ok) return b.response;
    const credentials = loginCredentials(b.value.email, b.value.password);
    if (!credentials.ok)
      return reconixError(c, 'VALIDATION_ERROR', summarise(credentials.errors), credentials.errors);
    const result = await security.login(credentials.email, credentials.password, requestMeta(c));
    if (result.ok) {
      setTokenHeaders(c, result.tokens);
      return c.json({ ...result.tokens, status: true, data: merchantUser(result.user) }, 200);
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

  app.post(refreshRoute.path, async (c) => {
    const b = await body(c, RefreshRequest);
    if (!b.ok) return b.response;
    const tokens = await security.refresh(b.value.refresh_token, requestMeta(c));
    if (!tokens)
      return reconixError(
        c,
        'UNAUTHORIZED',
        'refresh token is not valid (unknown, expired, used or revoked); sign in again',
      );
    setTokenHeaders(c, tokens);
    return c.json(tokens, 200);
  });

  app.post(merchantRefreshRoute.path, async (c) => {
    const refreshToken = c.req.header('x-refresh-token')?.trim();
    if (!refreshToken)
      return reconixError(c, 'VALIDATION_ERROR', 'X-Refresh-Token: header is required', [
        { field: 'X-Refresh-Token', message: 'header is required' },
      ]);
    const tokens = await security.refresh(refreshToken, requestMeta(c));
    if (!tokens)
      return reconixError(
        c,
        'UNAUTHORIZED',
        'X-Refresh-Token is not valid (unknown, expired, used or revoked); sign in again',
      );
    setTokenHeaders(c, tokens);
    return c.json({ ...tokens, status: true as const }, 200);
  });

  app.post(logoutRoute.path, requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE }), async (c) => {
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

  app.post(forgetRoute.path, async (c) => {
    const b = await body(c, ForgetRequest);
    if (!b.ok) return b.response;
    const sent = await security.forgotPassword(b.value.email, requestMeta(c));
    if (!sent.ok) return tooMany(c, sent.retryAfterSeconds, sent.message);
    return c.json(
      {
        status: true,
        message: 'If the account exists, a reset code has been sent to its e-mail. It expires in 60 minutes.',
      },
      200,
    );
  });

  app.post(resetRoute.path, async (c) => {
    const b = await body(c, ResetRequest);
    if (!b.ok) return b.response;
    const result = await security.resetPassword(b.value.resetCode, b.value.password, requestMeta(c));
    if (result === 'OK') return c.json({ status: true, message: 'Password reset successfully' }, 200);
    if (result === 'INVALID_CODE')
      return reconixError(c, 'VALIDATION_ERROR', 'resetCode: is unknown, used or expired', [
        { field: 'resetCode', message: 'is unknown, used or expired' },
      ]);
    return reconixError(c, 'VALIDATION_ERROR', `password: ${result}`, [
      { field: 'password', message: result },
    ]);
  });

  app.post(changeRoute.path, requireAuth<ApiEnv>(ctx.ingest, { roles: ANY_ROLE }), async (c) => {
    if (!c.get('principal').userId)
      return reconixError(
        c,
        'VALIDATION_ERROR',
        'a password belongs to a signed-in person, not to an API key',
      );
    const b = await body(c, ChangeRequest);
    if (!b.ok) return b.response;
    const result = await security.changePassword(
      c.get('principal'),
      b.value.currentPassword,
      b.value.newPassword,
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
