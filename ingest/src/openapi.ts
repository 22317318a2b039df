import { type Hook, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, Env, MiddlewareHandler } from 'hono';
import {
  type FieldError,
  RECONIX_ERRORS,
  type ReconixErrorCode,
  reconixError,
  summarise,
  TIRMS_ERRORS,
  type TirmsErrorCode,
  tirmsError,
} from './envelope.ts';
import { readJsonBody } from './request-body.ts';

/**
 * The one way a route is written: declared with `createRoute` (zod schemas with descriptions and
 * examples), registered with `app.openapi`, so the same schemas validate at runtime and generate
 * the document. A validation failure becomes the surface's 400 envelope in `validationHook`, with
 * every failing field's path; the error bodies and their code enums below are the ones the
 * runtime sends.
 */

const TIRMS_PREFIX = '/api/v1/phone/api';

/** The surface a path belongs to: TIRMS under /api/v1/phone/api, Reconix-style everywhere else. */
export function surfaceOf(path: string): 'TIRMS' | 'RECONIX' {
  return path.startsWith(TIRMS_PREFIX) ? 'TIRMS' : 'RECONIX';
}

/** Codes both surfaces share, so one call answers in whichever envelope the path belongs to. */
export type SharedErrorCode = TirmsErrorCode & ReconixErrorCode;

/** An error in the envelope of the surface the request is on. */
export function surfaceError(c: Context, code: SharedErrorCode, message: string, errors?: FieldError[]) {
  return surfaceOf(c.req.path) === 'TIRMS'
    ? tirmsError(c, code, message, errors)
    : reconixError(c, code, message, errors);
}

const FieldErrorBody = z
  .object({
    field: z.string().openapi({ example: 'items[3].msisdn' }),
    message: z.string().openapi({ example: "'0801234' has 7 digits; expected 10, 11 or 13" }),
  })
  .openapi('FieldError');

/** The Reconix envelope: `detail` for people, `code` from the runtime's own table, `errors` per field. */
export const ReconixErrorBody = z
  .object({
    detail: z.string().openapi({ example: "msisdn: '0801234' has 7 digits; expected 10, 11 or 13" }),
    code: z
      .enum(Object.keys(RECONIX_ERRORS) as [ReconixErrorCode, ...ReconixErrorCode[]])
      .openapi({ example: 'VALIDATION_ERROR' }),
    errors: z.array(FieldErrorBody).optional(),
  })
  .openapi('ReconixError');

/** The TIRMS envelope: `status: Failure`, the code and message in `data`, the status as a string. */
export const TirmsErrorBody = z
  .object({
    status: z.literal('Failure'),
    data: z.object({
      code: z
        .enum(Object.keys(TIRMS_ERRORS) as [TirmsErrorCode, ...TirmsErrorCode[]])
        .openapi({ example: 'VALIDATION_ERROR' }),
      message: z.string().openapi({ example: "phoneNumber: '0801234' has 7 digits; expected 10, 11 or 13" }),
      errors: z.array(FieldErrorBody).optional(),
    }),
    statusCode: z.string().openapi({ example: '400' }),
  })
  .openapi('TirmsError');

const DESCRIPTIONS = {
  400: 'Invalid request; `errors` names each field and why',
  401: 'Missing or invalid credentials',
  403: 'The caller may not do this',
  404: 'Not found',
  409: 'Conflicts with the current state; `code` says which',
  413: 'Request body too large',
  415: 'Content-Type is not application/json',
  422: 'Well-formed but not acceptable; `code` says why',
  423: 'Account locked',
  429: 'Rate limited; see Retry-After',
  500: 'Internal error; quote the request id',
  503: 'A dependency is unavailable; retry after Retry-After',
} as const;

export type ErrorStatus = keyof typeof DESCRIPTIONS;

/** One documented error response per status, typed so a handler may return that status. */
type ErrorResponses<S extends ErrorStatus, B extends z.ZodType> = {
  [K in S]: { description: string; content: { 'application/json': { schema: B } } };
};

function errorResponses<const S extends ErrorStatus, B extends z.ZodType>(
  schema: B,
  statuses: readonly S[],
  notes: Partial<Record<ErrorStatus, string>>,
): ErrorResponses<S, B> {
  const out: Partial<
    Record<ErrorStatus, { description: string; content: { 'application/json': { schema: B } } }>
  > = {};
  for (const status of statuses) {
    out[status] = {
      description: notes[status] ?? DESCRIPTIONS[status],
      content: { 'application/json': { schema } },
    };
  }
  return out as ErrorResponses<S, B>;
}

/** The Reconix error responses of a route, for `createRoute({ responses })`. */
export function reconixErrors<const S extends ErrorStatus>(
  statuses: readonly S[],
  notes: Partial<Record<ErrorStatus, string>> = {},
) {
  return errorResponses(ReconixErrorBody, statuses, notes);
}

/** The TIRMS error responses of a route, for `createRoute({ responses })`. */
export function tirmsErrors<const S extends ErrorStatus>(
  statuses: readonly S[],
  notes: Partial<Record<ErrorStatus, string>> = {},
) {
  return errorResponses(TirmsErrorBody, statuses, notes);
}

/** `items[3].msisdn` for zod's path `['items', 3, 'msisdn']`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

interface Issue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  input?: unknown;
  /** A custom issue's parameters; `{ code: 'PAYLOAD_TOO_LARGE' }` makes the failure a 413. */
  params?: Record<string, unknown>;
}

/** `Idempotency-Key` for `idempotency-key`: a header as clients write it (the validator lower-cases). */
export function headerName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** The value at `path` inside `input`, or undefined where the path leads nowhere. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * One field error per zod issue; a missing field reads "is required" rather than a type
 * complaint. `input` is what was validated, to tell a missing field from one of the wrong type
 * (zod's issues do not carry the input); `base` is where that input sits in the request.
 */
export function fieldErrorsOf(
  issues: readonly Issue[],
  target?: string,
  input?: unknown,
  base: readonly PropertyKey[] = [],
): FieldError[] {
  return issues.map((issue) => {
    const full = [...base, ...issue.path];
    // A header is named as clients write it; the header validator sees lower-cased names.
    const path =
      target === 'header' && typeof full[0] === 'string' ? [headerName(full[0]), ...full.slice(1)] : full;
    const field = fieldPath(path) || (target === 'json' ? 'body' : (target ?? 'request'));
    const missing =
      issue.code === 'invalid_type' &&
      path.length > 0 &&
      (issue.input ?? valueAt(input, issue.path)) === undefined;
    return { field, message: missing ? 'is required' : issue.message };
  });
}

/** The bounds of an `itemsOf` array and what a client is told when it is outside them. */
export interface ItemBounds {
  min: number;
  max: number;
  notAnArray?: string;
  tooFew: string;
  tooMany: (count: number) => string;
  /** More than `max` is a 413 PAYLOAD_TOO_LARGE (as a body over the byte limit is), not a 400. */
  tooManyIsTooLarge?: boolean;
}

/**
 * An array whose items the handler validates one by one (`checkItem`), so that a bad item is that
 * item's error in a 200, never the whole request's 400. Documented as an array of `item`: the name
 * of a component the same route registers, or an inline string schema. The bounds are checked
 * only on an array (zod's own `.min` also measures a string that is not one).
 */
export function itemsOf(item: string | { type: 'string'; description?: string }, bounds: ItemBounds) {
  return z
    .array(z.unknown(), bounds.notAnArray === undefined ? undefined : { error: bounds.notAnArray })
    .superRefine((items, ctx) => {
      if (items.length < bounds.min) ctx.addIssue({ code: 'custom', message: bounds.tooFew });
      else if (items.length > bounds.max)
        ctx.addIssue({
          code: 'custom',
          message: bounds.tooMany(items.length),
          ...(bounds.tooManyIsTooLarge ? { params: { code: 'PAYLOAD_TOO_LARGE' } } : {}),
        });
    })
    .openapi({
      items: typeof item === 'string' ? { $ref: `#/components/schemas/${item}` } : item,
      minItems: bounds.min,
      maxItems: bounds.max,
    });
}

export type ItemCheck<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** One item of an `itemsOf` array through its schema; error fields start with `base` (`items[3]`). */
export function checkItem<S extends z.ZodType>(
  schema: S,
  value: unknown,
  base: readonly PropertyKey[],
): ItemCheck<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, errors: fieldErrorsOf(result.error.issues, undefined, value, base) };
}

/**
 * A whole body (or record) validated by one of the hub's own record checks, the one file ingest
 * and the bulk routes apply to each record, so a single request hears exactly what a bulk record
 * or a file row would: every problem, also the cross-field ones zod skips once a field's own type
 * check failed. `schema` documents the body (and parses what the check passed); the handler gets
 * the check's value (the normalised record). A record is small: checking it twice costs microseconds.
 */
export function checkedRecord<S extends z.ZodType, T>(
  schema: S,
  check: (input: unknown) => { ok: true; value: T } | { ok: false; problems: readonly FieldError[] },
) {
  const report = (problems: readonly FieldError[], input: unknown, ctx: z.RefinementCtx) => {
    for (const p of problems) {
      const path = p.field === '' ? [] : p.field.split('.');
      ctx.addIssue({ code: 'custom', path, message: p.message, input });
    }
  };
  return z
    .preprocess((input, ctx) => {
      const result = check(input);
      if (!result.ok) report(result.problems, input, ctx);
      return input;
    }, schema)
    .transform((parsed, ctx): T => {
      const result = check(parsed);
      if (result.ok) return result.value;
      report(result.problems, parsed, ctx);
      return z.NEVER;
    });
}

/** A 400 in the surface's envelope naming every failing field: "field: message; …". */
export function fieldFailure(c: Context, errors: FieldError[]) {
  return surfaceError(c, 'VALIDATION_ERROR', summarise(errors), errors);
}

/** The 400 a failed validation gets, in the surface's envelope, naming every failing field. */
export function validationFailure(c: Context, issues: readonly Issue[], target?: string, input?: unknown) {
  return fieldFailure(c, fieldErrorsOf(issues, target, input));
}

/** An optional query parameter: absent and empty (`?from=`) both mean "not given". */
export function optionalParam<S extends z.ZodType>(schema: S) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}

/** What one of the hub's own checks (numbers, identifiers, dates) answers. */
export type CheckResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * A string field validated by one of the hub's own checks, so the schema that documents a field
 * and the check that the rest of the hub applies to it (file ingest, Kafka decoders) are one:
 * the check's reason is the field's message (also for a value that is not a string, e.g. "a JSON
 * number loses leading zeros"), and its value (the canonical form) is what the handler gets.
 */
export function checkedString<T>(check: (input: unknown) => CheckResult<T>) {
  return z
    .string({
      error: (issue) => {
        if (issue.input === undefined) return undefined;
        const result = check(issue.input);
        return result.ok ? undefined : result.reason;
      },
    })
    .transform((raw, ctx): T => {
      const result = check(raw);
      if (result.ok) return result.value;
      ctx.addIssue({ code: 'custom', message: result.reason });
      return z.NEVER;
    });
}

/** The hook every OpenAPIHono of the hub is built with. */
// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route, whatever its input type
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  // The validator hands the hook the value it validated as `data`, also on failure.
  const input = (result as { data?: unknown }).data;
  if (result.success) return;
  // A count over a route's cap (`itemsOf` with `tooManyIsTooLarge`) is a 413, like a body too long.
  const tooLarge = result.error.issues.find(
    (issue: Issue) => issue.code === 'custom' && issue.params?.code === 'PAYLOAD_TOO_LARGE',
  );
  if (tooLarge)
    return surfaceError(c, 'PAYLOAD_TOO_LARGE', summarise(fieldErrorsOf([tooLarge], result.target, input)));
  return validationFailure(c, result.error.issues, result.target, input);
};

/** An app of the hub: every route validated through `validationHook`. */
export function createSurfaceApp<E extends Env>(): OpenAPIHono<E> {
  return new OpenAPIHono<E>({ defaultHook: validationHook });
}

/**
 * Reads a JSON body with a size limit (through Node's stream, see request-body.ts) before the
 * route's validators run, and hands the parsed value to them, so `c.req.valid('json')` never reads
 * the web stream. 415, 413 and malformed JSON answer in the surface's envelope.
 */
export function jsonBody(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const body = await readJsonBody(c, maxBytes);
    if (!body.ok) return surfaceError(c, body.code, body.message, body.errors);
    c.req.bodyCache.json = Promise.resolve(body.value);
    await next();
  };
}

/**
 * `jsonBody` for a route whose body may be left out (declared `required: false`): a request with
 * Content-Length 0, or with neither Content-Length nor Content-Type, and not chunked, has none, and the handler gets `{}`
 * (unparsed: for a request without Content-Type zod-openapi skips the schema, so defaults belong in
 * the handler); any other body is read, limited and parsed as `jsonBody` does.
 */
export function optionalJsonBody(maxBytes: number): MiddlewareHandler {
  const read = jsonBody(maxBytes);
  return async (c, next) => {
    // Content-Length 0 is no body whatever the Content-Type says (`curl -X POST -H 'content-type: …'`).
    const length = c.req.header('content-length');
    const sent =
      c.req.header('transfer-encoding') !== undefined ||
      (length !== undefined ? length !== '0' : c.req.header('content-type') !== undefined);
    if (!sent) {
      c.req.bodyCache.json = Promise.resolve({});
      return next();
    }
    return read(c, next);
  };
}
