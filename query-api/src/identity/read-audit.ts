import { z } from '@hono/zod-openapi';
import { actorOf } from '@hub/ingest';
import type { Context } from 'hono';
import type { ApiContext, ApiEnv } from '../context.ts';

/**
 * Reading people's data is an action: every identity lookup, corroborate call and name enquiry is
 * an audit entry naming who asked, for which number or identifier (masked, never raw), and why.
 */
export type ReadAction = 'IDENTITY_LOOKUP' | 'IDENTITY_CORROBORATE' | 'NAME_ENQUIRY' | 'NIN_VERIFY';

const PURPOSE = 'must be text of 1 to 200 characters';

/** The caller's stated reason, optional on every read of identity data, kept in the audit entry. */
export const purposeField = () =>
  z
    .string({ error: PURPOSE })
    .trim()
    .min(1, { error: PURPOSE })
    .max(200, { error: PURPOSE })
    .optional()
    .openapi({
      description: 'Why the data is read (kept in the audit trail with the caller and the masked target)',
      example: 'onboarding KYC',
    });

export interface ReadTarget {
  /** `msisdn:+2348012345678`, `nin:*******8901`, `nuban:******2453`, ... */
  target: string;
  operation: string;
  purpose?: string | undefined;
  found: boolean;
  details?: Record<string, unknown>;
}

export function auditRead(c: Context<ApiEnv>, ctx: ApiContext, action: ReadAction, read: ReadTarget): void {
  const principal = c.get('principal');
  ctx.ingest.audit.record({
    actor: actorOf(principal),
    organisation: principal.organisation,
    action,
    target: read.target,
    outcome: 'SUCCESS',
    details: {
      operation: read.operation,
      purpose: read.purpose ?? null,
      found: read.found,
      ...read.details,
    },
    requestId: c.get('requestId') ?? null,
  });
}

/**
 * A number for an audit target. Numbers are the hub's keys (held as such in Redis and ClickHouse)
 * and the audit trail must say which one was read; NIN, BVN and NUBAN are masked.
 */
export function msisdnTarget(msisdn: string): string {
  return `msisdn:+${msisdn}`;
}
