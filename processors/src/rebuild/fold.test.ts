import { topicNames } from '@hub/infra';
import type { DataSubjectEvent, NinLinkageEvent, StatusUpdateEvent } from '@hub/schemas';
import { encodeState } from '@hub/state/encoding';
import { ErasureSet } from '@hub/state/erasure';
import { applyEvent } from '@hub/state/machine';
import { emptyRecord, type StateEvent, type StateRecord } from '@hub/state/record';
import { describe, expect, it } from 'vitest';
import type { PartitionBatch } from '../kafka/batch-consumer.ts';
import type { BuilderInput } from '../state-builder/builder.ts';
import type { ErasureOrder } from '../state-builder/erasure-orders.ts';
import { FoldedState, type FoldOptions, foldChunk } from './fold.ts';

const topics = topicNames('fold-test.');
const A = '2348031234567';
const B = '2348039876543';
const envelope = {
  eventId: 'e',
  source: 'KAFKA',
  occurredAt: Date.UTC(2024, 0, 1),
  receivedAt: Date.UTC(2024, 0, 1),
};

function status(msisdn: string, s: StatusUpdateEvent['status'], date: string): StateEvent {
  return {
    input: 'status',
    event: {
      ...envelope,
      operator: 'MTN',
      msisdn,
      status: s,
      occurrenceDate: date,
      reassignmentDate: null,
      remarks: null,
      batchId: null,
    },
  };
}

function nin(msisdn: string, token: string, date: string, action: 'LINK' | 'UNLINK' = 'LINK'): StateEvent {
  const event: NinLinkageEvent = {
    ...envelope,
    msisdn,
    action,
    ninToken: token,
    ninMasked: '*******1234',
    linkDate: date,
  };
  return { input: 'nin', event };
}

function order(msisdn: string, requestId: string): ErasureOrder {
  return {
    input: 'erasure',
    event: {
      eventId: `order-${requestId}`,
      source: 'PROCESSOR',
      type: 'SUBSCRIBER_ERASURE_ORDERED',
      subjectType: 'SUBSCRIBER',
      subject: msisdn,
      requestId,
      actor: 'dpo',
      purpose: null,
      cutoffs: [],
      details: '{}',
      occurredAt: envelope.occurredAt,
      receivedAt: envelope.receivedAt,
      msisdn,
    },
  };
}

/** A partition chunk: records at consecutive offsets from `first`. */
function batch(
  topic: string,
  values: BuilderInput[],
  first = 0,
  partition = 0,
): PartitionBatch<BuilderInput> {
  return {
    topic,
    partition,
    records: values.map((value, i) => ({
      offset: String(first + i),
      key: null,
      value,
      headers: {},
      timestamp: '0',
    })),
  };
}

const empty = () => ({ record: null, unreadable: null });
const options = (erasures = new ErasureSet()): FoldOptions => ({ topics, erasures });

/** The reference: every event applied one at a time, as the live builder's rounds would. */
function applyAll(events: [StateEvent, bigint][]): StateRecord {
  let r = emptyRecord();
  for (const [ev, offset] of events) {
    const out = applyEvent(r, ev, offset);
    if (out.status === 'applied') r = out.record;
  }
  return r;
}

describe('rebuild fold', () => {
  it("writes each number's final record once, equal to applying its events one at a time", () => {
    const statuses = [
      status(A, 'NORMAL', '2024-01-01'),
      status(B, 'NORMAL', '2024-02-01'),
      status(A, 'CHURNED', '2024-03-01'),
    ];
    const nins = [nin(A, 'aaaaaaaaaaaaaaaa', '2023-05-01'), nin(B, 'bbbbbbbbbbbbbbbb', '2023-06-01')];
    const folded = foldChunk(
      [batch(topics.statusUpdates, statuses, 10), batch(topics.ninLinkages, nins, 20)],
      empty,
      options(),
    );
    expect([...folded.changed.keys()].sort()).toEqual([A, B].sort());
    const expectedA = applyAll([
      [statuses[0]!, 10n],
      [statuses[2]!, 12n],
      [nins[0]!, 20n],
    ]);
    expect(folded.changed.get(A)?.record).toEqual(expectedA);
    expect(folded.changed.get(A)?.bytes.equals(encodeState(expectedA))).toBe(true);
    expect(folded.changed.get(A)?.record.version).toBe(3);
    expect(folded.applied.get(topics.statusUpdates)).toBe(3);
    expect(folded.rejections).toEqual([[], []]);
  });

  it('gives the same bytes whatever the topic order and the chunk boundaries', () => {
    const statuses = [status(A, 'NORMAL', '2024-01-01'), status(A, 'REASSIGNED', '2024-04-01')];
    const nins = [
      nin(A, 'aaaaaaaaaaaaaaaa', '2023-05-01'),
      nin(A, 'aaaaaaaaaaaaaaaa', '2024-05-01', 'UNLINK'),
    ];
    const one = foldChunk(
      [batch(topics.statusUpdates, statuses), batch(topics.ninLinkages, nins)],
      empty,
      options(),
    );
    const swapped = foldChunk(
      [batch(topics.ninLinkages, nins), batch(topics.statusUpdates, statuses)],
      empty,
      options(),
    );
    // Two chunks, split differently in each topic: the second starts from the first's record.
    const first = foldChunk(
      [batch(topics.ninLinkages, nins.slice(0, 1)), batch(topics.statusUpdates, statuses)],
      empty,
      options(),
    );
    const second = foldChunk(
      [batch(topics.ninLinkages, nins.slice(1), 1)],
      () => ({ record: first.changed.get(A)!.record, unreadable: null }),
      options(),
    );
    const bytes = one.changed.get(A)!.bytes;
    expect(swapped.changed.get(A)!.bytes.equals(bytes)).toBe(true);
    expect(second.changed.get(A)!.bytes.equals(bytes)).toBe(true);
  });

  it('dead-letters an event the state machine refuses and still applies the others', () => {
    const bad = status(A, 'NORMAL', '2024-13-40');
    const folded = foldChunk(
      [batch(topics.statusUpdates, [bad, status(A, 'NORMAL', '2024-01-01')], 5)],
      empty,
      options(),
    );
    expect(folded.rejections[0]).toEqual([
      { offset: '5', result: expect.objectContaining({ status: 'dead-letter', step: 'apply' }) },
    ]);
    expect(folded.changed.get(A)?.record.version).toBe(1);
    expect(folded.changed.get(A)?.record.offsets.status).toBe(6n);
  });

  it('writes nothing for a number none of whose events applied', () => {
    const folded = foldChunk([batch(topics.statusUpdates, [status(A, 'NORMAL', 'bad')])], empty, options());
    expect(folded.changed.size).toBe(0);
    expect(folded.rejections[0]).toHaveLength(1);
  });

  it('skips events at or below the offset the starting record holds', () => {
    const start = applyAll([[status(A, 'NORMAL', '2024-01-01'), 7n]]);
    const folded = foldChunk(
      [
        batch(
          topics.statusUpdates,
          [status(A, 'CHURNED', '2024-02-01'), status(A, 'CHURNED', '2024-03-01')],
          7,
        ),
      ],
      () => ({ record: start, unreadable: null }),
      options(),
    );
    expect(folded.skipped.get(topics.statusUpdates)).toBe(1);
    expect(folded.changed.get(A)?.record.version).toBe(2);
  });

  it('refuses every event of a number whose stored record cannot be read', () => {
    const folded = foldChunk(
      [batch(topics.statusUpdates, [status(A, 'NORMAL', '2024-01-01'), status(B, 'NORMAL', '2024-01-01')])],
      (m) => ({ record: null, unreadable: m === A ? 'truncated' : null }),
      options(),
    );
    expect(folded.rejections[0]).toEqual([
      { offset: '0', result: expect.objectContaining({ step: 'state-record' }) },
    ]);
    expect([...folded.changed.keys()]).toEqual([B]);
  });

  it('counts an erased linkage without its fact, and applies a decided order at its position', () => {
    const erasures = new ErasureSet();
    const decided: Pick<DataSubjectEvent, 'type' | 'subject' | 'cutoffs' | 'requestId'> = {
      type: 'SUBSCRIBER_ERASED',
      subject: A,
      requestId: 'req-1',
      cutoffs: [{ topic: topics.ninLinkages, partition: 0, offset: 1 }],
    };
    erasures.add(decided);
    const folded = foldChunk(
      [
        batch(topics.ninLinkages, [
          nin(A, 'aaaaaaaaaaaaaaaa', '2023-01-01'),
          nin(A, 'bbbbbbbbbbbbbbbb', '2024-01-01'),
        ]),
        batch(topics.dataSubject, [order(A, 'req-1')]),
      ],
      empty,
      options(erasures),
    );
    const record = folded.changed.get(A)!.record;
    // The erased link counts (version, offset) but leaves no fact; the later one stays.
    expect(record.version).toBe(2);
    expect(record.nin.map((l) => l.token)).toEqual(['bbbbbbbbbbbbbbbb']);
    expect(folded.decisions).toEqual([]);
  });

  it('decides a new erasure order just after what the record has applied', () => {
    const folded = foldChunk(
      [
        batch(topics.ninLinkages, [nin(A, 'aaaaaaaaaaaaaaaa', '2023-01-01')], 3),
        batch(topics.dataSubject, [order(A, 'req-2')]),
      ],
      empty,
      options(),
    );
    expect(folded.decisions).toHaveLength(1);
    expect(folded.decisions[0]?.record.offsets.nin).toBe(3n);
    expect(folded.changed.get(A)?.record.nin).toEqual([]);
    expect(folded.changed.get(A)?.record.version).toBe(1);
  });
});

describe('rebuild fold state', () => {
  const rec = (version: number) => ({ ...emptyRecord(), version });
  const folded = (...numbers: [string, number][]) =>
    new Map(numbers.map(([m, v]) => [m, { record: rec(v), bytes: Buffer.alloc(0) }]));

  it('starts an unseen number empty and a kept one from memory, with nothing to read', () => {
    const state = new FoldedState(10);
    state.commit(folded([A, 3]));
    expect(state.start(A)).toEqual({ record: rec(3), unreadable: null });
    expect(state.start(B)).toEqual({ record: null, unreadable: null });
    expect(state.toRead([batch(topics.statusUpdates, [status(A, 'NORMAL', '2024-01-01')])])).toEqual([]);
  });

  it('keeps at most its limit in memory and reads the numbers it let go back from Redis', () => {
    const state = new FoldedState(1);
    state.commit(folded([A, 1]));
    state.commit(folded([B, 2]));
    expect(state.size).toBe(1);
    const chunk = [
      batch(topics.statusUpdates, [status(A, 'NORMAL', '2024-01-01'), status(B, 'NORMAL', '2024-01-01')]),
    ];
    expect(state.toRead(chunk)).toEqual([A]);
    const read = new Map([[A, { record: rec(1), unreadable: null }]]);
    expect(state.start(A, read)).toEqual({ record: rec(1), unreadable: null });
    expect(state.start(B, read)).toEqual({ record: rec(2), unreadable: null });
    state.commit(folded([A, 4]));
    expect(state.toRead(chunk)).toEqual([B]);
  });

  it('after its partitions changed, forgets what it held and reads every number it has not written since', () => {
    const state = new FoldedState(10);
    state.commit(folded([A, 1]));
    state.distrust();
    const chunk = [
      batch(topics.statusUpdates, [status(A, 'NORMAL', '2024-01-01'), status(B, 'NORMAL', '2024-01-01')]),
    ];
    expect(state.toRead(chunk)).toEqual([A, B]);
    expect(state.start(A)).toEqual({ record: null, unreadable: null });
    state.commit(folded([B, 5]));
    expect(state.toRead(chunk)).toEqual([A]);
    expect(state.start(B)).toEqual({ record: rec(5), unreadable: null });
  });
});
