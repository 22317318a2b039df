import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Error codes of the TIRMS surface and the HTTP status each maps to: one table, used everywhere. */
export const TIRMS_ERRORS = {
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type TirmsErrorCode = keyof typeof TIRMS_ERRORS;

export interface FieldError {
  field: string;
  message: string;
}

export function tirmsOk<T>(c: Context, data: T, status: ContentfulStatusCode = 200) {
  return c.json({ status: 'Success', data, statusCode: String(status) }, status);
}

/** Generic in the code, so a route's typed responses see the one status the code maps to. */
export function tirmsError<C extends TirmsErrorCode>(
  c: Context,
  code: C,
  message: string,
  errors?: FieldError[],
) {
  const status: (typeof TIRMS_ERRORS)[C] = TIRMS_ERRORS[code];
  return c.json(
    {
      status: 'Failure' as const,
      data: errors ? { code, message, errors } : { code, message },
      statusCode: String(status),
    },
    status,
  );
}

/** "field: message; field: message" — the first line a client reads names every problem. */
export function summarise(errors: FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
}

/** Error codes of the Reconix-style surface (`/api/v1/...` outside TIRMS) and their HTTP statuses. */
export const RECONIX_ERRORS = {
  VALIDATION_ERROR: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** Delink workflow (docs/delink-workflow.md): the maker of a request may not approve it. */
  MAKER_CANNOT_APPROVE: 403,
  /** The number is known but not a recycled SIM (not in the registry, or no stale linkage). */
  NOT_RECYCLED: 409,
  ALREADY_REGISTERED: 409,
  /** A state change the workflow does not allow from the current state; the message names both. */
  ILLEGAL_TRANSITION: 409,
  /** An open delink request already covers one of the linkages. */
  DUPLICATE_REQUEST: 409,
  /** cleanup_status `completed` while the state record still shows a stale linkage. */
  STALE_LINKAGES_REMAIN: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** A data-subject request's number and NIN do not identify a subscriber the hub holds (which part failed is not said). */
  SUBJECT_NOT_MATCHED: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ACCOUNT_LOCKED: 423,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ReconixErrorCode = keyof typeof RECONIX_ERRORS;

/** `{ detail, code, errors? }`: `detail` is the human message, `code` the stable machine code. */
export function reconixError<C extends ReconixErrorCode>(
  c: Context,
  code: C,
  detail: string,
  errors?: FieldError[],
) {
  const status: (typeof RECONIX_ERRORS)[C] = RECONIX_ERRORS[code];
  return c.json(errors ? { detail, code, errors } : { detail, code }, status);
}
