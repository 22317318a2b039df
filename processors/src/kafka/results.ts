/**
 * What a processing step says about one record. Steps never throw for a bad record: they return a
 * result, and the batch consumer is the one place that acts on the non-ok ones (dead-letter topic
 * or drop, both counted). A thrown error means the step itself failed (e.g. the registry is down)
 * and the batch is retried.
 */
export type StepFailure =
  | { status: 'dead-letter'; step: string; reason: string }
  | { status: 'drop'; step: string; reason: string };

export type StepResult<T> = { status: 'ok'; value: T } | StepFailure;

export function ok<T>(value: T): StepResult<T> {
  return { status: 'ok', value };
}

export function deadLetter(step: string, reason: string): StepFailure {
  return { status: 'dead-letter', step, reason };
}

export function drop(step: string, reason: string): StepFailure {
  return { status: 'drop', step, reason };
}

/** A record a batch handler refuses after decoding (e.g. an event the state machine rejects). */
export interface RecordRejection {
  offset: string;
  result: StepFailure;
}
