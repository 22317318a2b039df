import type { Context } from 'hono';
import { PublishIncompleteError } from './publisher.ts';
import { markUnavailable, unavailableResponse } from './unavailable.ts';

/** Inclusive ranges of request indexes, `[[0, 4999], [5001, 9999]]`: compact for 100,000 records. */
export type IndexRange = [first: number, last: number];

export function indexRanges(indexes: readonly number[]): IndexRange[] {
  const out: IndexRange[] = [];
  for (const i of indexes) {
    const last = out[out.length - 1];
    if (last && i === last[1] + 1) last[1] = i;
    else out.push([i, i]);
  }
  return out;
}

/** Where each record of a partly published request stands, by its index in the request. */
export interface KafkaOutcome {
  /** On Kafka: acknowledged with acks=all. */
  published: IndexRange[];
  /** In flight when Kafka failed: each may or may not be on Kafka. */
  unconfirmed: IndexRange[];
  /** Never sent. */
  notSent: IndexRange[];
}

/**
 * What a publish that failed part-way left on Kafka, in request indexes: `requestIndexes[i]` is
 * the request index of the i-th published event (rejected records have none).
 */
export function kafkaOutcome(err: PublishIncompleteError, requestIndexes: readonly number[]): KafkaOutcome {
  const confirmedEnd = err.published;
  const unconfirmedEnd = err.published + err.unconfirmed;
  return {
    published: indexRanges(requestIndexes.slice(0, confirmedEnd)),
    unconfirmed: indexRanges(requestIndexes.slice(confirmedEnd, unconfirmedEnd)),
    notSent: indexRanges(requestIndexes.slice(unconfirmedEnd)),
  };
}

/** "5000 of 12000 valid records are on Kafka, 5000 unconfirmed, 2000 not sent". */
export function incompleteSummary(err: PublishIncompleteError, noun = 'records'): string {
  if (err.published === 0 && err.unconfirmed === 0) return `none of the ${err.total} valid ${noun} was sent`;
  return `${err.published} of ${err.total} valid ${noun} are on Kafka, ${err.unconfirmed} unconfirmed (they may or may not be on Kafka), ${err.notSent} not sent`;
}

/** The retry advice that goes with a partial answer. */
export const RESEND_ADVICE =
  'resend the unconfirmed and not-sent records only; an unconfirmed record resent carries the same event id';

/**
 * The answer to a bulk publish that Kafka did not finish: a 503 with Retry-After in the surface's
 * envelope which lists, by request index, the records that are on Kafka, those whose write was in
 * flight, and those never sent. Only when nothing was sent does it say nothing was accepted.
 * Null when `err` is not an availability failure (the caller rethrows it: a 500).
 */
export function incompletePublishResponse(
  c: Context,
  err: unknown,
  requestIndexes: readonly number[],
  extra: Record<string, unknown>,
  surface: 'TIRMS' | 'RECONIX',
): Response | null {
  if (!(err instanceof PublishIncompleteError) || (err.published === 0 && err.unconfirmed === 0)) {
    return unavailableResponse(c, err, 'the event store is unavailable; nothing was accepted, retry later');
  }
  markUnavailable(c, err);
  const outcome = kafkaOutcome(err, requestIndexes);
  const message = `the event store failed part-way: ${incompleteSummary(err)}; ${RESEND_ADVICE}`;
  return surface === 'TIRMS'
    ? c.json(
        {
          status: 'Failure',
          data: { code: 'SERVICE_UNAVAILABLE', message, ...outcome, ...extra },
          statusCode: '503',
        },
        503,
      )
    : c.json({ detail: message, code: 'SERVICE_UNAVAILABLE', ...outcome, ...extra }, 503);
}
