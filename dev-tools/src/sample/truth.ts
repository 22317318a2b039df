import type { DelinkAction, DelinkScope, LinkAction, TelecomStatus } from '@hub/schemas';

/** How a status record writes the number in the operator file (TIRMS accepts all three). */
export type NumberForm = 'national' | 'international' | 'plus';

interface TruthBase {
  /** Event id (UUID-shaped, from the number's stream). */
  id: string;
  /** Occurrence date, YYYY-MM-DD. */
  day: string;
  /** Epoch ms within `day`, between 01:00 and 22:00 UTC so the date is the same in Lagos (UTC+1). */
  occurredAt: number;
}

export interface StatusTruth extends TruthBase {
  kind: 'status-update';
  status: TelecomStatus;
  operator: string;
  reassignmentDate: string | null;
  remarks: string | null;
  /** BLACKLISTED is sometimes filed as TIRMS's synonym BARRED. */
  filedAs: TelecomStatus | 'BARRED';
  numberForm: NumberForm;
}

export interface NinTruth extends TruthBase {
  kind: 'nin-linkage';
  action: LinkAction;
  nin: string;
}

export interface BvnTruth extends TruthBase {
  kind: 'bvn-linkage';
  action: LinkAction;
  bvn: string;
  /** The holder's NIN as NIBSS sends it on this event, or null when it does not. */
  holderNin: string | null;
  nuban: string;
  bankCode: string;
}

export interface DelinkTruth extends TruthBase {
  kind: 'delink';
  requestId: string;
  action: DelinkAction;
  scope: DelinkScope;
  actor: string;
  reason: string | null;
}

/** One fact in a number's simulated life. */
export type TruthEvent = StatusTruth | NinTruth | BvnTruth | DelinkTruth;

/** Named features of a life, so tests can check that the rates were honoured. */
export const TRAITS = [
  'status-reported',
  'ported',
  'nin-linked',
  'bvn-linked',
  'holder-nin-differs',
  'second-nin',
  'unlinked',
  'churned',
  'reassigned',
  'stale-left',
  'delink-requested',
  'delink-completed',
  'swapped',
  'swapped-recently',
  'blacklisted',
  'late',
  'duplicate',
] as const;
export type Trait = (typeof TRAITS)[number];

export interface SampleNumber {
  /** Canonical MSISDN. */
  msisdn: string;
  allocatedOperator: string;
  /** The life, in true chronological order (day, then the order things happened on that day). */
  truth: TruthEvent[];
  /** Delivery order: indexes into `truth`; a late event comes after a newer one, a duplicate twice. */
  arrival: number[];
  traits: Trait[];
}

export interface Person {
  nin: string;
  firstName: string;
  surname: string;
  dateOfBirth: string;
  /** The number NIMC has this NIN linked to, or null for a BVN holder known only to NIBSS. */
  msisdn: string | null;
}

export interface BankAccount {
  nuban: string;
  bankCode: string;
}

export interface BvnHolder {
  bvn: string;
  /** NIN of the person the BVN belongs to. */
  nin: string;
  msisdn: string;
  accounts: BankAccount[];
}
