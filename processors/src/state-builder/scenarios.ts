import type { TopicNames } from '@hub/infra';
import type { EventCodec, StatusUpdateEvent, TelecomStatus } from '@hub/schemas';
import type { LifecycleStatus } from '@hub/state/derive';
import { applyEvent } from '@hub/state/machine';
import { emptyRecord, type Input, type StateEvent, type StateRecord } from '@hub/state/record';
import type { Producer } from 'kafkajs';

/**
 * Hand-built per-number stories for tests and benchmarks. Each kind of story ends in a known
 * lifecycle status, asserted by the tests independently of the state machine. Events come in two
 * phases: phase 2 is the delink workflow. The final state does not depend on the order the phases
 * are produced or consumed in (a COMPLETED delink's clearing is judged by occurrence dates, see
 * docs/state-model.md); tests produce them in either order to show it.
 */
export interface Story {
  msisdn: string;
  kind: StoryKind;
  expectedLifecycle: LifecycleStatus;
  phase1: StateEvent[];
  phase2: StateEvent[];
}

export const STORY_KINDS = [
  'active',
  'recycled-stale',
  'recycled-cleared',
  'late-status',
  'two-nins',
  'nin-bvn-mismatch',
  'blacklisted',
  'duplicates-and-unknown-unlink',
  'reassigned-new-owner',
  'delink-rejected',
  'recycled-twice-cleared-once',
  'recycled-twice-cleared',
] as const;
export type StoryKind = (typeof STORY_KINDS)[number];

const EXPECTED: Record<StoryKind, LifecycleStatus> = {
  active: 'ACTIVE',
  'recycled-stale': 'RECYCLED',
  'recycled-cleared': 'AVAILABLE',
  'late-status': 'ACTIVE',
  'two-nins': 'CONFLICTED',
  'nin-bvn-mismatch': 'CONFLICTED',
  blacklisted: 'BLOCKED',
  'duplicates-and-unknown-unlink': 'ACTIVE',
  'reassigned-new-owner': 'ACTIVE',
  'delink-rejected': 'RECYCLED',
  // The first completion cleared the first owner's linkages; the second owner's are stale.
  'recycled-twice-cleared-once': 'RECYCLED',
  'recycled-twice-cleared': 'AVAILABLE',
};

function hex16(n: number, salt: number): string {
  return ((BigInt(n) * 0x9e3779b97f4a7c15n + BigInt(salt) * 0x632be59bd9b4e019n) & ((1n << 64n) - 1n))
    .toString(16)
    .padStart(16, '0');
}

/**
 * `count` stories over numbers `234803<7 digits>` starting at `base`, cycling through the kinds.
 * Deterministic: the same arguments give the same events (event ids included).
 */
export function buildStories(count: number, base = 1_000_000, runId = 'run'): Story[] {
  const stories: Story[] = [];
  for (let i = 0; i < count; i++) {
    const msisdn = `234803${String(base + i).padStart(7, '0')}`;
    const kind = STORY_KINDS[i % STORY_KINDS.length]!;
    let seq = 0;
    const env = (date: string) => ({
      eventId: `${runId}-${i}-${seq++}`,
      source: 'GENERATOR',
      occurredAt: Date.parse(`${date}T10:00:00Z`),
      receivedAt: Date.parse(`${date}T10:00:01Z`),
    });
    const status = (s: TelecomStatus, date: string, extra: Partial<StatusUpdateEvent> = {}): StateEvent => ({
      input: 'status',
      event: {
        ...env(date),
        operator: 'MTN',
        msisdn,
        status: s,
        occurrenceDate: date,
        reassignmentDate: s === 'REASSIGNED' ? date : null,
        remarks: null,
        batchId: null,
        ...extra,
      },
    });
    const nin = (action: 'LINK' | 'UNLINK', salt: number, date: string): StateEvent => ({
      input: 'nin',
      event: {
        ...env(date),
        msisdn,
        action,
        ninToken: hex16(i, salt),
        ninMasked: `*******${String((i * 7 + salt) % 10000).padStart(4, '0')}`,
        linkDate: date,
      },
    });
    const bvn = (
      action: 'LINK' | 'UNLINK',
      salt: number,
      date: string,
      holderSalt: number | null,
    ): StateEvent => ({
      input: 'bvn',
      event: {
        ...env(date),
        msisdn,
        action,
        bvnToken: hex16(i, 1000 + salt),
        bvnMasked: `*******${String((i * 13 + salt) % 10000).padStart(4, '0')}`,
        holderNinToken: holderSalt === null ? null : hex16(i, holderSalt),
        nubanToken: null,
        nubanMasked: null,
        bankCode: null,
        linkDate: date,
      },
    });
    const delink = (
      action: 'REQUESTED' | 'APPROVED' | 'REJECTED' | 'COMPLETED',
      date: string,
      request = 'req',
      scope: 'ALL' | 'NIN' | 'BVN' = 'ALL',
    ): StateEvent => ({
      input: 'delink',
      event: {
        ...env(date),
        requestId: `${runId}-${request}-${i}`,
        msisdn,
        action,
        scope,
        actor: 'admin',
        reason: null,
      },
    });

    let phase1: StateEvent[];
    let phase2: StateEvent[] = [];
    switch (kind) {
      case 'active':
        phase1 = [
          status('NORMAL', '2023-02-01'),
          nin('LINK', 1, '2021-03-01'),
          bvn('LINK', 1, '2021-04-01', 1),
        ];
        break;
      case 'recycled-stale':
        phase1 = [
          nin('LINK', 1, '2019-01-01'),
          bvn('LINK', 1, '2019-02-01', 1),
          status('CHURNED', '2024-01-10'),
        ];
        break;
      case 'recycled-cleared':
        phase1 = [
          nin('LINK', 1, '2019-01-01'),
          bvn('LINK', 1, '2019-02-01', 1),
          status('CHURNED', '2024-01-10'),
        ];
        phase2 = [
          delink('REQUESTED', '2024-01-11'),
          delink('APPROVED', '2024-01-12'),
          delink('COMPLETED', '2024-01-13'),
        ];
        break;
      case 'late-status':
        phase1 = [
          status('NORMAL', '2024-05-01'),
          status('SWAPPED', '2024-03-01'),
          nin('LINK', 1, '2022-01-01'),
        ];
        break;
      case 'two-nins':
        phase1 = [status('NORMAL', '2023-01-01'), nin('LINK', 1, '2022-01-01'), nin('LINK', 2, '2023-06-01')];
        break;
      case 'nin-bvn-mismatch':
        phase1 = [nin('LINK', 1, '2022-01-01'), bvn('LINK', 1, '2022-02-01', 9)];
        break;
      case 'blacklisted':
        phase1 = [nin('LINK', 1, '2022-01-01'), status('BLACKLISTED', '2024-02-01', { operator: 'AIRTEL' })];
        break;
      case 'duplicates-and-unknown-unlink':
        phase1 = [
          status('SWAPPED', '2024-01-01'),
          nin('LINK', 1, '2022-01-01'),
          nin('UNLINK', 5, '2023-01-01'),
          status('SWAPPED', '2024-01-01'),
          nin('LINK', 1, '2022-01-01'),
        ];
        break;
      case 'reassigned-new-owner':
        phase1 = [
          nin('LINK', 1, '2018-01-01'),
          status('CHURNED', '2023-01-01'),
          status('REASSIGNED', '2023-06-01', { operator: 'GLO' }),
          nin('LINK', 2, '2023-06-02'),
          nin('UNLINK', 1, '2023-05-01'),
        ];
        break;
      case 'delink-rejected':
        phase1 = [bvn('LINK', 1, '2019-02-01', null), status('REASSIGNED', '2024-01-10')];
        phase2 = [delink('REQUESTED', '2024-01-11'), delink('REJECTED', '2024-01-12')];
        break;
      case 'recycled-twice-cleared-once':
      case 'recycled-twice-cleared':
        phase1 = [
          nin('LINK', 1, '2018-01-01'),
          bvn('LINK', 1, '2018-02-01', 1),
          status('CHURNED', '2020-01-10'),
          status('REASSIGNED', '2020-06-01', { operator: 'GLO' }),
          nin('LINK', 2, '2020-06-02'),
          status('CHURNED', '2023-01-10', { operator: 'GLO' }),
        ];
        // Completed after the first churn: clears the first owner's linkages only, whenever it is
        // applied; the second owner's NIN needs a completion after the second churn.
        phase2 = [delink('APPROVED', '2020-01-20'), delink('COMPLETED', '2020-02-01')];
        if (kind === 'recycled-twice-cleared') {
          phase2.push(
            delink('APPROVED', '2023-01-20', 'req2', 'NIN'),
            delink('COMPLETED', '2023-02-01', 'req2', 'NIN'),
          );
        }
        break;
    }
    stories.push({ msisdn, kind, expectedLifecycle: EXPECTED[kind], phase1, phase2 });
  }
  return stories;
}

/** What the state machine predicts after applying the events in order, ignoring topic offsets. */
export function predict(events: readonly StateEvent[]): StateRecord {
  let r = emptyRecord();
  const next: Record<Input, bigint> = { status: 0n, nin: 0n, bvn: 0n, delink: 0n };
  for (const ev of events) {
    const out = applyEvent(r, ev, next[ev.input]++);
    if (out.status !== 'applied') throw new Error(`scenario event not applicable: ${JSON.stringify(out)}`);
    r = out.record;
  }
  return r;
}

const KIND_OF: Record<Input, 'status-update' | 'nin-linkage' | 'bvn-linkage' | 'delink'> = {
  status: 'status-update',
  nin: 'nin-linkage',
  bvn: 'bvn-linkage',
  delink: 'delink',
};

export function topicOf(topics: TopicNames, input: Input): string {
  return {
    status: topics.statusUpdates,
    nin: topics.ninLinkages,
    bvn: topics.bvnLinkages,
    delink: topics.delink,
  }[input];
}

export function encodeEvent(codec: EventCodec, ev: StateEvent): Buffer {
  switch (ev.input) {
    case 'status':
      return codec.encode('status-update', ev.event);
    case 'nin':
      return codec.encode('nin-linkage', ev.event);
    case 'bvn':
      return codec.encode('bvn-linkage', ev.event);
    case 'delink':
      return codec.encode('delink', ev.event);
  }
}

/** Registers the four input schemas for the topics (idempotent). */
export async function registerInputs(codec: EventCodec, topics: TopicNames): Promise<void> {
  for (const input of ['status', 'nin', 'bvn', 'delink'] as const) {
    await codec.register(KIND_OF[input], topicOf(topics, input));
  }
}

/**
 * Produces events as a producer following the contract would: Avro through the codec, keyed by
 * MSISDN, partitioned by murmur2. Per-number order within a topic is the array order.
 */
export async function produceEvents(
  producer: Producer,
  codec: EventCodec,
  topics: TopicNames,
  events: readonly StateEvent[],
  chunk = 5000,
): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) {
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (const ev of events.slice(i, i + chunk)) {
      const topic = topicOf(topics, ev.input);
      const value = encodeEvent(codec, ev);
      const list = byTopic.get(topic) ?? [];
      byTopic.set(topic, list);
      list.push({ key: ev.event.msisdn, value });
    }
    await producer.sendBatch({
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}
