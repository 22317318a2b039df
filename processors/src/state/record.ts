import type {
  BvnLinkageEvent,
  DelinkEvent,
  NinLinkageEvent,
  StatusUpdateEvent,
  TelecomStatus,
} from '@hub/schemas';

/** The four input topics a record is built from; each record keeps its last applied offset per topic. */
export const INPUTS = ['status', 'nin', 'bvn', 'delink'] as const;
export type Input = (typeof INPUTS)[number];

export interface NinLink {
  /** 16 lowercase hex characters (64-bit keyed hash of the NIN). */
  token: string;
  /** Display form, e.g. `*******1234`. */
  masked: string;
  linkDate: string;
  /** Null while active; the UNLINK's or COMPLETED delink's date once cleared. */
  clearedDate: string | null;
}

export interface BvnLink extends NinLink {
  /** Token of the NIN behind the BVN, when NIBSS knows it. */
  holderNinToken: string | null;
}

export type OpenDelinkAction = 'REQUESTED' | 'APPROVED';

export interface OpenDelink {
  requestId: string;
  action: OpenDelinkAction;
}

/** Stored facts of one MSISDN (docs/state-model.md, "Stored facts"). The MSISDN itself is the key. */
export interface StateRecord {
  /** Number of applied events. */
  version: number;
  /** Operator of the newest applied status event; null before any (the view falls back to the prefix's). */
  operator: string | null;
  telecomStatus: TelecomStatus | null;
  statusDate: string | null;
  reassignmentDate: string | null;
  lastSwappedDate: string | null;
  lastChurnedDate: string | null;
  lastReassignedDate: string | null;
  nin: NinLink[];
  bvn: BvnLink[];
  openDelink: OpenDelink | null;
  /** Per input topic, the offset of the last event from it applied here. */
  offsets: Record<Input, bigint | null>;
}

export type StateEvent =
  | { input: 'status'; event: StatusUpdateEvent }
  | { input: 'nin'; event: NinLinkageEvent }
  | { input: 'bvn'; event: BvnLinkageEvent }
  | { input: 'delink'; event: DelinkEvent };

export function emptyRecord(): StateRecord {
  return {
    version: 0,
    operator: null,
    telecomStatus: null,
    statusDate: null,
    reassignmentDate: null,
    lastSwappedDate: null,
    lastChurnedDate: null,
    lastReassignedDate: null,
    nin: [],
    bvn: [],
    openDelink: null,
    offsets: { status: null, nin: null, bvn: null, delink: null },
  };
}

export function cloneRecord(r: StateRecord): StateRecord {
  return {
    ...r,
    nin: r.nin.map((l) => ({ ...l })),
    bvn: r.bvn.map((l) => ({ ...l })),
    openDelink: r.openDelink ? { ...r.openDelink } : null,
    offsets: { ...r.offsets },
  };
}
