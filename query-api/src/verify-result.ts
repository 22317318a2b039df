import { allocatedOperator, normaliseMsisdn, operatorByCode } from '@hub/schemas';
import type { StateView } from '@hub/state';

/** One item of a TIRMS verification answer, field for field as the TIRMS document shows it. */
export interface TirmsVerification {
  status: string;
  requestId: string;
  verificationStatus: 'VERIFIED' | 'FAILED';
  reassignmentDate: string | null;
  verificationTimestamp: string;
  occurrenceOfStatusDate: string | null;
  mobileNetwork: string | null;
  msisdn: string;
  errorMessage: string | null;
}

/** The network to show: the serving operator from the number's events, else the allocated one. */
export function mobileNetworkOf(msisdn: string, view: StateView | null): string | null {
  const code = view?.operator;
  if (code) return operatorByCode(code)?.name ?? code;
  return allocatedOperator(msisdn)?.name ?? null;
}

export function verificationOf(
  input: string,
  msisdn: string,
  view: StateView | null,
  requestId: string,
  timestamp: string,
): TirmsVerification {
  return {
    status: view?.telecomStatus ?? 'NULL',
    requestId,
    verificationStatus: 'VERIFIED',
    reassignmentDate: view ? (view.reassignmentDate ?? view.lastReassignedDate) : null,
    verificationTimestamp: timestamp,
    occurrenceOfStatusDate: view?.statusDate ?? null,
    mobileNetwork: mobileNetworkOf(msisdn, view),
    msisdn: input,
    errorMessage: null,
  };
}

export function failedVerification(
  input: unknown,
  reason: string,
  requestId: string,
  timestamp: string,
): TirmsVerification {
  return {
    status: 'NULL',
    requestId,
    verificationStatus: 'FAILED',
    reassignmentDate: null,
    verificationTimestamp: timestamp,
    occurrenceOfStatusDate: null,
    mobileNetwork: null,
    msisdn: typeof input === 'string' ? input : JSON.stringify(input ?? null),
    errorMessage: reason,
  };
}

export type NumberCheck = { ok: true; msisdn: string } | { ok: false; reason: string };
export const checkNumber = (input: unknown): NumberCheck => normaliseMsisdn(input);
