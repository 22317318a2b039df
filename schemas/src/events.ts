import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Telecom status in the TIRMS vocabulary (BARRED is accepted at the edge as BLACKLISTED). */
export const TELECOM_STATUSES = ['NORMAL', 'CHURNED', 'SWAPPED', 'BLACKLISTED', 'REASSIGNED'] as const;
export type TelecomStatus = (typeof TELECOM_STATUSES)[number];

export type LinkAction = 'LINK' | 'UNLINK';
export type DelinkAction =
  | 'REQUESTED'
  | 'APPROVED'
  | 'REJECTED'
  | 'CANCELLED'
  | 'COMPLETED'
  | 'PROCESSING'
  | 'DISPATCHED'
  | 'FAILED'
  | 'RETRIED';
export type DelinkScope = 'NIN' | 'BVN' | 'ALL';

interface Envelope {
  eventId: string;
  source: string;
  occurredAt: number;
  receivedAt: number;
}

export interface StatusUpdateEvent extends Envelope {
  operator: string;
  msisdn: string;
  status: TelecomStatus;
  occurrenceDate: string;
  reassignmentDate: string | null;
  remarks: string | null;
  batchId: string | null;
}

export interface NinLinkageEvent extends Envelope {
  msisdn: string;
  action: LinkAction;
  ninToken: string;
  ninMasked: string;
  linkDate: string;
}

export interface BvnLinkageEvent extends Envelope {
  msisdn: string;
  action: LinkAction;
  bvnToken: string;
  bvnMasked: string;
  holderNinToken: string | null;
  nubanToken: string | null;
  nubanMasked: string | null;
  bankCode: string | null;
  linkDate: string;
}

/** A linkage as workflow events carry it: tokenised and masked, never raw. */
export interface WorkflowLinkage {
  kind: 'NIN' | 'BVN';
  token: string;
  masked: string;
  linkDate: string;
}

export interface DelinkEvent extends Envelope {
  requestId: string;
  msisdn: string;
  action: DelinkAction;
  scope: DelinkScope;
  actor: string;
  reason: string | null;
  /** v2 fields (schemas/avro/delink/v2.avsc); absent on events written with v1 until decoded. */
  linkages?: WorkflowLinkage[];
  attempt?: number;
  linkageId?: string | null;
  outcome?: string | null;
  idempotencyKey?: string | null;
  operator?: string | null;
}

export type RecycledSimAction = 'REGISTERED' | 'DETECTED' | 'CLEANUP_STATUS_CHANGED';

export interface RecycledSimEvent extends Envelope {
  simId: string;
  msisdn: string;
  action: RecycledSimAction;
  recycleDate: string | null;
  operator: string | null;
  cleanupStatus: string | null;
  linkages: WorkflowLinkage[];
  actor: string;
  reason: string | null;
}

export interface VerificationEvent extends Envelope {
  requestId: string;
  organisation: string;
  msisdn: string;
  channel: 'SINGLE' | 'BULK' | 'LINKAGE' | 'LOOKUP';
  verificationStatus: 'VERIFIED' | 'FAILED';
  telecomStatus: string | null;
  lifecycleStatus: string | null;
  /** The caller's own reference for its customer (v2); absent or null when none was sent. */
  customer?: string | null;
}

export interface StateChangeEvent extends Envelope {
  msisdn: string;
  version: number;
  operator: string | null;
  telecomStatus: string | null;
  statusDate: string | null;
  reassignmentDate: string | null;
  lastSwappedDate: string | null;
  lastChurnedDate: string | null;
  lastReassignedDate: string | null;
  lifecycleStatus: string;
  isRecycled: boolean;
  activeNinLinkages: number;
  activeBvnLinkages: number;
  cleanupStatus: string;
  canAssignToNewUser: boolean;
  conflicts: { code: string; since: string }[];
  causeTopic: string;
  causeEventId: string;
}

export interface AuditEvent extends Envelope {
  actor: string;
  organisation: string | null;
  action: string;
  target: string | null;
  outcome: 'SUCCESS' | 'DENIED' | 'FAILURE';
  details: string;
  requestId: string | null;
  ip: string | null;
}

export interface DeadLetterEvent {
  eventId: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  step: string;
  reason: string;
  key: Buffer | null;
  value: Buffer | null;
  failedAt: number;
}

/** The event families, one per topic; the name is also the folder under schemas/avro. */
export const EVENT_KINDS = [
  'status-update',
  'nin-linkage',
  'bvn-linkage',
  'delink',
  'verification',
  'state-change',
  'audit',
  'dead-letter',
  'recycled-sim',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventTypes {
  'status-update': StatusUpdateEvent;
  'nin-linkage': NinLinkageEvent;
  'bvn-linkage': BvnLinkageEvent;
  delink: DelinkEvent;
  verification: VerificationEvent;
  'state-change': StateChangeEvent;
  audit: AuditEvent;
  'dead-letter': DeadLetterEvent;
  'recycled-sim': RecycledSimEvent;
}

const avroDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'avro');

/** Every version of a kind's Avro schema, oldest first, as parsed JSON. */
export function schemaVersions(kind: EventKind): object[] {
  const files = readdirSync(join(avroDir, kind))
    .filter((f) => /^v\d+\.avsc$/.test(f))
    .sort((a, b) => Number(a.slice(1, -5)) - Number(b.slice(1, -5)));
  return files.map((f) => JSON.parse(readFileSync(join(avroDir, kind, f), 'utf8')) as object);
}

/** The current (newest) schema of a kind: what the hub writes and reads with. */
export function currentSchema(kind: EventKind): object {
  const versions = schemaVersions(kind);
  const latest = versions[versions.length - 1];
  if (!latest) throw new Error(`no Avro schema for ${kind}`);
  return latest;
}
