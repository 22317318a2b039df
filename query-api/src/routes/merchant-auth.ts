import { z } from '@hono/zod-openapi';
import type { FieldError } from '@hub/ingest';
import type { TokenPair, UserRecord } from '@hub/security';
import type { Context } from 'hono';

/**
 * The merchant token-auth document (seed 003) beside Reconix's: base64 credentials on login, the
 * tokens also in `X-Access-Token` / `X-Refresh-Token` headers, and `status` + `data` in the body.
 */

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The text a strict base64 string encodes, or null when `value` is not canonical base64 of UTF-8. */
export function strictBase64(value: string): string | null {
  if (value.length % 4 !== 0 || !BASE64.test(value)) return null;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) return null;
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return text.decode(bytes);
  } catch {
    return null;
  }
}

export type LoginCredentials =
  | { ok: true; email: string; password: string; encoding: 'plain' | 'base64' }
  | { ok: false; errors: FieldError[] };

/**
 * The one rule: an `email` without `@` that is strict base64 of text containing `@` is base64,
 * and then `password` is base64 too (the document encodes both). Anything else is taken as sent.
 */
export function loginCredentials(email: string, password: string): LoginCredentials {
  if (email.includes('@')) return { ok: true, email, password, encoding: 'plain' };
  const decodedEmail = strictBase64(email.trim());
  if (decodedEmail === null || !decodedEmail.includes('@'))
    return { ok: true, email, password, encoding: 'plain' };
  const decodedPassword = strictBase64(password);
  if (decodedPassword === null || decodedPassword.length === 0)
    return {
      ok: false,
      errors: [
        {
          field: 'password',
          message:
            'must be base64 (UTF-8) when email is base64-encoded, as the merchant-auth document sends both',
        },
      ],
    };
  return { ok: true, email: decodedEmail, password: decodedPassword, encoding: 'base64' };
}

export const MerchantUser = z
  .object({
    id: z.string().openapi({ example: '425bc461-9b6c-4036-b47a-9d96e4f21eba' }),
    role: z.string().openapi({ example: 'ServiceProvider' }),
    email: z.string().openapi({ example: 'merchant1@mailinator.com' }),
    firstName: z.string().openapi({ example: 'Samson' }),
    lastName: z.string().openapi({ example: 'Obagunwa' }),
    createdAt: z.string().nullable().openapi({
      example: '2026-11-30T08:12:03.114Z',
      description: 'When the user was created; null for users created before the account record kept it',
    }),
    updatedAt: z.string().openapi({
      example: '2026-12-01T20:59:27.026Z',
      description:
        'When the user record last changed (role, status, password); for older records, when the credentials last changed',
    }),
  })
  .openapi('MerchantUser');

export type MerchantUserBody = z.infer<typeof MerchantUser>;

export function merchantUser(user: UserRecord): MerchantUserBody {
  const parts = user.name.trim().split(/\s+/).filter(Boolean);
  const firstName = parts[0] ?? '';
  const lastName = parts.length > 1 ? parts.slice(1).join(' ') : '';
  return {
    id: user.id,
    role: user.role,
    email: user.email,
    firstName,
    lastName,
    createdAt: typeof user.createdAt === 'number' ? new Date(user.createdAt).toISOString() : null,
    updatedAt: new Date(Math.max(user.updatedAt ?? 0, user.passwordChangedAt)).toISOString(),
  };
}

/** Both documents' token headers on an answer that carries a new pair. */
export function setTokenHeaders(c: Context, tokens: TokenPair): void {
  c.header('X-Access-Token', tokens.access_token);
  c.header('X-Refresh-Token', tokens.refresh_token);
}

export const tokenHeaders = {
  'X-Access-Token': {
    schema: { type: 'string' as const },
    description: 'The access token (merchant-auth style)',
  },
  'X-Refresh-Token': { schema: { type: 'string' as const }, description: 'The one-time refresh token' },
};
