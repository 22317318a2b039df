import { type ReconixErrorCode, reconixError } from '@hub/ingest';
import type { Context } from 'hono';

/** A command the workflow refuses: its Reconix code, a message, and the field it is about. */
export class WorkflowRefusal extends Error {
  override readonly name = 'WorkflowRefusal';
  constructor(
    readonly code: ReconixErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The refusal's Reconix envelope; anything else is rethrown (onError answers it). */
export function refusalResponse(c: Context, err: unknown): Response {
  if (!(err instanceof WorkflowRefusal)) throw err;
  const detail = err.field ? `${err.field}: ${err.message}` : err.message;
  return reconixError(
    c,
    err.code,
    detail,
    err.field ? [{ field: err.field, message: err.message }] : undefined,
  );
}

/** The projector's reason for not applying an event, as the refusal a client gets. */
export function refusalOf(outcome: string | null, what: string): WorkflowRefusal {
  if (outcome === null)
    return new WorkflowRefusal(
      'SERVICE_UNAVAILABLE',
      `${what} is on Kafka but the workflow projector has not applied it yet; read it again shortly`,
    );
  const [code, ...rest] = outcome.split(': ');
  const known = ['DUPLICATE_REQUEST', 'ILLEGAL_TRANSITION', 'ALREADY_REGISTERED'] as const;
  const match = known.find((k) => k === code);
  return match
    ? new WorkflowRefusal(match, rest.join(': '))
    : new WorkflowRefusal('CONFLICT', `${what} was not applied: ${outcome}`);
}
