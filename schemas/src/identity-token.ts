import { createHmac } from 'node:crypto';

export type IdentifierKind = 'NIN' | 'BVN' | 'NUBAN';

const LENGTHS: Record<IdentifierKind, number> = { NIN: 11, BVN: 11, NUBAN: 10 };

/** Hex characters kept from the HMAC: 64 bits, enough to join on without collisions at national scale. */
export const TOKEN_HEX_LENGTH = 16;

export type IdentifierCheck = { ok: true; value: string } | { ok: false; reason: string };

export function checkIdentifier(kind: IdentifierKind, raw: unknown): IdentifierCheck {
  const len = LENGTHS[kind];
  if (typeof raw !== 'string') return { ok: false, reason: `${kind} must be a string of ${len} digits` };
  if (!new RegExp(`^\\d{${len}}$`).test(raw)) {
    return { ok: false, reason: `${kind} must be exactly ${len} digits` };
  }
  return { ok: true, value: raw };
}

/**
 * Keyed hash of a NIN, BVN or NUBAN for matching and joining. The secret is held outside the data
 * stores, so a leaked token cannot be reversed by enumerating the (small) identifier space.
 */
export function tokenise(kind: IdentifierKind, raw: string, secret: string): string {
  return createHmac('sha256', secret).update(`${kind}:${raw}`).digest('hex').slice(0, TOKEN_HEX_LENGTH);
}

/** Display form: every digit but the last four replaced by '*'. */
export function mask(raw: string): string {
  return `${'*'.repeat(Math.max(0, raw.length - 4))}${raw.slice(-4)}`;
}
