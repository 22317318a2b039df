import { z } from '@hono/zod-openapi';
import { checkEventDate, REMARKS_LIMIT } from '../contract.ts';
import { checkDate, todayInLagos } from '../dates.ts';
import type { TelecomStatus } from '../events.ts';
import { normaliseMsisdn } from '../msisdn.ts';

/** Statuses an operator may send; BARRED is TIRMS's synonym for BLACKLISTED. */
export const SUBMITTED_STATUSES = [
  'CHURNED',
  'SWAPPED',
  'BLACKLISTED',
  'BARRED',
  'REASSIGNED',
  'NORMAL',
] as const;

export const MAX_BULK_STATUS_RECORDS = 100_000;
export const MAX_BULK_VERIFY_NUMBERS = 500;

const requiredString = (what: string) =>
  z.string({
    error: (iss) => (iss.input === undefined ? 'is required' : `must be a string (${what})`),
  });

/** A date as the validation contract (contract.ts) accepts it; an occurrence date also not in the future. */
const calendarDate = (what: string) =>
  requiredString('YYYY-MM-DD').superRefine((value, ctx) => {
    // A future occurrence is the more useful answer than the range (which it would also break).
    if (what === 'occurrence' && checkDate(value).ok && value > todayInLagos()) {
      ctx.addIssue({
        code: 'custom',
        message: `'${value}' is in the future (today in Lagos is ${todayInLagos()})`,
      });
      return;
    }
    const check = checkEventDate(value);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
  });

const phoneNumberField = requiredString('10, 11 or 13 digits').openapi({
  description: 'MSISDN in 10, 11 or 13-digit form (8012345678, 08012345678, 2348012345678), optional +.',
  example: '07059316841',
});

/** One operator status update, as in the TIRMS single and bulk requests. */
export const StatusUpdateRecord = z
  .object({
    status: z
      .enum(SUBMITTED_STATUSES, {
        error: (iss) =>
          iss.input === undefined ? 'is required' : `must be one of ${SUBMITTED_STATUSES.join(', ')}`,
      })
      .openapi({ description: 'New status; BARRED is accepted as BLACKLISTED.', example: 'BARRED' }),
    phoneNumber: phoneNumberField.optional(),
    uid: requiredString('MSISDN')
      .optional()
      .openapi({ description: 'Alternative name of phoneNumber in the TIRMS bulk field list.' }),
    reassignmentDate: calendarDate('reassignment').nullable().optional().openapi({
      description: 'YYYY-MM-DD; required when status is SWAPPED or CHURNED.',
      example: '2025-09-15',
    }),
    occurrenceOfStatusDate: calendarDate('occurrence').openapi({
      description: 'YYYY-MM-DD the status became effective; not in the future.',
      example: '2025-09-15',
    }),
    remarks: z
      .string({ error: 'must be a string' })
      .max(REMARKS_LIMIT, { error: `must be at most ${REMARKS_LIMIT} characters` })
      .nullable()
      .optional()
      .openapi({ example: 'Number reassigned to new user' }),
  })
  .superRefine((r, ctx) => {
    for (const p of crossFieldProblems(r))
      ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
  })
  .openapi('StatusUpdateRequest');
export type StatusUpdateRecordInput = z.input<typeof StatusUpdateRecord>;

/** A validated record, normalised: canonical MSISDN, BARRED folded into BLACKLISTED. */
export interface NormalisedStatusUpdate {
  msisdn: string;
  submittedNumber: string;
  submittedStatus: string;
  status: TelecomStatus;
  occurrenceDate: string;
  reassignmentDate: string | null;
  remarks: string | null;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export type RecordCheck =
  | { ok: true; value: NormalisedStatusUpdate }
  | { ok: false; problems: FieldProblem[] };

/**
 * Checks that need more than one field: the number (phoneNumber or its alias uid) and the
 * reassignment date that SWAPPED and CHURNED require. Run on the raw input too, because zod skips
 * refinements when a field's own type check failed, and a client should hear every problem at once.
 */
function crossFieldProblems(r: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const field = r.phoneNumber !== undefined ? 'phoneNumber' : 'uid';
  const number = r[field];
  if (number === undefined) problems.push({ field: 'phoneNumber', message: 'is required' });
  else if (typeof number === 'string') {
    const check = normaliseMsisdn(number);
    if (!check.ok) problems.push({ field, message: check.reason });
  }
  if (
    (r.status === 'SWAPPED' || r.status === 'CHURNED') &&
    (r.reassignmentDate === undefined || r.reassignmentDate === null || r.reassignmentDate === '')
  ) {
    problems.push({ field: 'reassignmentDate', message: `is required when status is ${r.status}` });
  }
  return problems;
}

export function checkStatusUpdate(input: unknown): RecordCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problems: [{ field: '', message: 'must be a JSON object' }] };
  }
  const parsed = StatusUpdateRecord.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    const reported = new Set(problems.map((p) => p.field));
    for (const p of crossFieldProblems(input as Record<string, unknown>)) {
      if (!reported.has(p.field)) problems.push(p);
    }
    return { ok: false, problems };
  }
  const r = parsed.data;
  const submittedNumber = (r.phoneNumber ?? r.uid) as string;
  const check = normaliseMsisdn(submittedNumber);
  if (!check.ok) return { ok: false, problems: [{ field: 'phoneNumber', message: check.reason }] };
  return {
    ok: true,
    value: {
      msisdn: check.msisdn,
      submittedNumber,
      submittedStatus: r.status,
      status: r.status === 'BARRED' ? 'BLACKLISTED' : r.status,
      occurrenceDate: r.occurrenceOfStatusDate,
      reassignmentDate: r.reassignmentDate ?? null,
      remarks: r.remarks ?? null,
    },
  };
}

/** The TIRMS response envelope: { status, data, statusCode }. */
export const tirmsEnvelope = <T extends z.ZodType>(data: T, name: string) =>
  z
    .object({
      status: z.string().openapi({ example: 'Success', description: 'Success or Failure.' }),
      data,
      statusCode: z.string().openapi({ example: '200' }),
    })
    .openapi(name);

export const StatusUpdateResult = tirmsEnvelope(
  z.object({
    phoneNumber: z.string().openapi({ example: '07059316841' }),
    status: z.string().openapi({ example: 'BARRED' }),
    updateTimestamp: z.string().openapi({ example: '2025-09-09 10:20:26' }),
    remarks: z.string().nullable().openapi({ example: 'Number reassigned to new user' }),
  }),
  'StatusUpdateResponse',
);

export const BulkAccepted = tirmsEnvelope(
  z.object({
    message: z.string().openapi({ example: 'Request accepted: 2 of 2 records published, 0 rejected' }),
    link: z.string().openapi({ example: '/api/v1/phone/api/phone-numbers/status/bulk/7f1c…' }),
  }),
  'BulkAcceptedResponse',
);
