import { createHmac } from 'node:crypto';

/**
 * How an e-mail address appears in the audit trail: `email:` and a keyed hash of the address,
 * never the address. The trail must outlive an account's erasure (the law requires it), and this
 * is what makes that lawful: the entries name a pseudonym, and the one link from pseudonym to
 * person, the account record, is tombstoned when the account is erased. An auditor who knows an
 * address finds its entries by the same hash (the audit-log route's `actor`/`target` filters
 * take an address and look for its pseudonym).
 */
export function emailPseudonym(email: string, secret: string): string {
  const normalised = email.trim().toLowerCase();
  return `email:${createHmac('sha256', secret).update(`email:${normalised}`).digest('hex').slice(0, 16)}`;
}

/** True for a value that is an e-mail address (and so must not be stored in the audit trail). */
export const looksLikeEmail = (value: string): boolean => /^[^\s@]+@[^\s@]+$/.test(value.trim());
