import type { TelecomStatus } from '@hub/schemas';
import { applyEvent, deriveView, emptyRecord, type StateEvent, type StateView } from '@hub/state';

/**
 * Views for unit tests, built the way production builds them: events through the state machine,
 * then the derived view. Tests so stay true to docs/state-model.md whatever the record stores.
 */
export const TEST_MSISDN = '2348031234567';

const envelope = (i: number) => ({
  eventId: `e-${i}`,
  source: 'TEST',
  occurredAt: Date.UTC(2025, 0, 1),
  receivedAt: Date.UTC(2025, 0, 1),
});

export type Step =
  | { status: TelecomStatus; date: string; reassignmentDate?: string }
  | { nin: string; date: string; unlink?: boolean }
  | { bvn: string; holder: string | null; date: string; unlink?: boolean };

/** A 16-hex token from a short name, so tests read `tok('a')`. */
export const tok = (name: string): string => Buffer.from(name).toString('hex').padEnd(16, '0').slice(0, 16);

function eventOf(step: Step, i: number): StateEvent {
  const base = { ...envelope(i), msisdn: TEST_MSISDN };
  if ('status' in step) {
    return {
      input: 'status',
      event: {
        ...base,
        operator: 'MTN',
        status: step.status,
        occurrenceDate: step.date,
        reassignmentDate: step.reassignmentDate ?? null,
        remarks: null,
        batchId: null,
      },
    };
  }
  const action = step.unlink ? 'UNLINK' : 'LINK';
  if ('nin' in step) {
    return {
      input: 'nin',
      event: { ...base, action, ninToken: tok(step.nin), ninMasked: '*******1234', linkDate: step.date },
    };
  }
  return {
    input: 'bvn',
    event: {
      ...base,
      action,
      bvnToken: tok(step.bvn),
      bvnMasked: '*******5678',
      holderNinToken: step.holder === null ? null : tok(step.holder),
      nubanToken: null,
      nubanMasked: null,
      bankCode: null,
      linkDate: step.date,
    },
  };
}

export function viewOf(steps: Step[]): StateView {
  let record = emptyRecord();
  steps.forEach((step, i) => {
    const outcome = applyEvent(record, eventOf(step, i), BigInt(i));
    if (outcome.status !== 'applied') throw new Error(`step ${i} not applied: ${JSON.stringify(outcome)}`);
    record = outcome.record;
  });
  return deriveView(TEST_MSISDN, record);
}
