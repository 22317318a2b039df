import { dateToDays, daysToDate, OPERATORS, TELECOM_STATUSES } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, StateEncodingError } from './encoding.ts';
import { mulberry32 as rng } from './random.ts';
import {
  DELINK_SCOPES,
  emptyRecord,
  type StateRecord,
  withCompletedDelink,
  withRecycleDate,
} from './record.ts';

function randomRecord(seed: number): StateRecord {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const maybe = <T>(v: () => T, p = 0.5): T | null => (r() < p ? v() : null);
  const base = dateToDays('1990-01-01');
  const date = () => daysToDate(base + int(65536));
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const masked = () => `*******${String(int(10000)).padStart(4, '0')}`;
  const hasStatus = r() < 0.8;
  const bigOffset = () => (r() < 0.5 ? BigInt(int(1000)) : BigInt(int(2 ** 30)) * BigInt(int(2 ** 30)));
  // Recycle and delink history as the state machine builds it: sometimes none, sometimes past the limit.
  const later = (a: string | null, b: string): string => (a === null || b > a ? b : a);
  let lastChurnedDate = null as string | null;
  let lastReassignedDate = null as string | null;
  let recycleDates: string[] = [];
  const recycles = r() < 0.5 ? 0 : int(r() < 0.8 ? 3 : 14);
  for (let i = 0; i < recycles; i++) {
    const d = r() < 0.2 && recycleDates.length > 0 ? recycleDates[int(recycleDates.length)]! : date();
    if (r() < 0.5) lastChurnedDate = later(lastChurnedDate, d);
    else lastReassignedDate = later(lastReassignedDate, d);
    recycleDates = withRecycleDate(recycleDates, d);
  }
  let completedDelinks: StateRecord['completedDelinks'] = [];
  const delinks = r() < 0.6 ? 0 : int(r() < 0.8 ? 3 : 30);
  for (let i = 0; i < delinks; i++) {
    completedDelinks = withCompletedDelink(completedDelinks, {
      date: r() < 0.2 ? '2024-01-01' : date(),
      scope: DELINK_SCOPES[int(3)]!,
    });
  }
  return {
    version: r() < 0.5 ? int(300) : int(2 ** 40),
    operator: hasStatus ? (r() < 0.9 ? OPERATORS[int(OPERATORS.length)]!.code : `OP-${hex(int(12))}`) : null,
    telecomStatus: hasStatus ? TELECOM_STATUSES[int(TELECOM_STATUSES.length)]! : null,
    statusDate: hasStatus ? date() : null,
    reassignmentDate: maybe(date, 0.3),
    lastSwappedDate: maybe(date, 0.3),
    lastChurnedDate,
    lastReassignedDate,
    recycleDates,
    completedDelinks,
    nin: Array.from({ length: int(4) }, () => ({
      token: hex(16),
      masked: masked(),
      linkDate: date(),
      unlinkedDate: maybe(date, 0.4),
    })),
    bvn: Array.from({ length: int(4) }, () => ({
      token: hex(16),
      masked: masked(),
      holderNinToken: maybe(() => hex(16), 0.6),
      linkDate: date(),
      unlinkedDate: maybe(date, 0.4),
    })),
    openDelink: maybe(() => ({
      requestId: r() < 0.7 ? crypto.randomUUID() : `req-${hex(int(20))}`,
      action: r() < 0.5 ? ('REQUESTED' as const) : ('APPROVED' as const),
    })),
    offsets: {
      status: maybe(bigOffset, 0.8),
      nin: maybe(bigOffset, 0.8),
      bvn: maybe(bigOffset, 0.8),
      delink: maybe(bigOffset, 0.2),
    },
  };
}

function typical(): StateRecord {
  return {
    ...emptyRecord(),
    version: 4,
    operator: 'MTN',
    telecomStatus: 'NORMAL',
    statusDate: '2024-03-01',
    nin: [{ token: '0123456789abcdef', masked: '*******1234', linkDate: '2021-05-01', unlinkedDate: null }],
    bvn: [
      {
        token: 'fedcba9876543210',
        masked: '*******0042',
        holderNinToken: '0123456789abcdef',
        linkDate: '2019-08-01',
        unlinkedDate: null,
      },
    ],
    // Offsets at national scale: hundreds of millions per partition.
    offsets: { status: 400_000_000n, nin: 250_000_000n, bvn: 120_000_000n, delink: null },
  };
}

describe('state record encoding', () => {
  it('round-trips the empty record in a few bytes', () => {
    const bytes = encodeState(emptyRecord());
    expect(decodeState(bytes)).toEqual(emptyRecord());
    expect(bytes.length).toBe(9);
  });

  it('keeps a typical number (status, one NIN, one BVN with holder) within the 64-byte listpack value', () => {
    const bytes = encodeState(typical());
    expect(decodeState(bytes)).toEqual(typical());
    expect(bytes.length).toBeLessThanOrEqual(56);
  });

  it('round-trips 5000 random records exactly', () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const rec = randomRecord(seed);
      expect(decodeState(encodeState(rec)), `seed ${seed}`).toEqual(rec);
    }
  });

  it('is deterministic: equal records give equal bytes', () => {
    expect(encodeState(randomRecord(7)).equals(encodeState(randomRecord(7)))).toBe(true);
  });

  it('rejects every truncation of a valid record with a specific error', () => {
    const bytes = encodeState(randomRecord(42));
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeState(bytes.subarray(0, n))).toThrow(StateEncodingError);
    }
  });

  it('rejects trailing bytes, unknown formats and unknown operators', () => {
    const bytes = encodeState(typical());
    expect(() => decodeState(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/1 trailing bytes/);
    expect(() => decodeState(Buffer.from([0x80, 0x20, 0, 0]))).toThrow(/format 3 is not supported/);
    expect(() => decodeState(Buffer.from([0x00, 0x00, 200]))).toThrow(/operator index 200 is unknown/);
  });

  it('writes a record without recycle/delink history in format 1, adding nothing to it', () => {
    const rec = { ...typical(), lastChurnedDate: '2023-01-10', recycleDates: ['2023-01-10'] };
    const bytes = encodeState(rec);
    expect(bytes.length).toBe(encodeState(typical()).length + 2);
    expect(bytes[0]! & 0x80).toBe(0);
    expect(decodeState(bytes)).toEqual(rec);
  });

  it('writes the history in format 2: 2 count bytes and 2 bytes per date', () => {
    const rec: StateRecord = {
      ...typical(),
      lastChurnedDate: '2024-01-10',
      lastReassignedDate: '2023-06-01',
      recycleDates: ['2022-01-10', '2023-06-01', '2024-01-10'],
      completedDelinks: [
        { date: '2022-02-01', scope: 'ALL' },
        { date: '2024-02-01', scope: 'ALL' },
        { date: '2024-02-01', scope: 'BVN' },
      ],
    };
    const bytes = encodeState(rec);
    // flags, ext: format 2 (bits 4-7 = 1), no open delink, known operator.
    expect(bytes[0]! & 0x80).toBe(0x80);
    expect(bytes[1]).toBe(0x10);
    const plain = encodeState({ ...rec, recycleDates: ['2023-06-01', '2024-01-10'], completedDelinks: [] });
    expect(bytes.length).toBe(plain.length + 1 + 2 + 4 * 2);
    expect(decodeState(bytes)).toEqual(rec);
  });

  it('decodes a format-1 record written before format 2, its cleared dates read as UNLINK dates', () => {
    // Written by the format-1 encoder: an old owner's NIN and BVN cleared by a delink on 2023-02-01.
    const legacy = Buffer.from(
      '6d070130be30be2f1e30be0d290004020123456789abcdef29d884d22f34111122223333444430bf162e01fedcba98765432102a34c02a0123456789abcdef2f34',
      'hex',
    );
    const r = decodeState(legacy);
    expect(r.recycleDates).toEqual(['2023-01-10', '2024-03-01']);
    expect(r.completedDelinks).toEqual([]);
    expect(r.nin.map((l) => l.unlinkedDate)).toEqual(['2023-02-01', null]);
    expect(r.bvn.map((l) => l.unlinkedDate)).toEqual(['2023-02-01']);
    expect(encodeState(r).equals(legacy)).toBe(true);
  });

  it('refuses history that would not decode to the same record, and rejects bad history on decode', () => {
    expect(() => encodeState({ ...typical(), lastChurnedDate: '2024-01-01', recycleDates: [] })).toThrow(
      /recycleDates/,
    );
    expect(() => encodeState({ ...typical(), recycleDates: ['2024-01-02', '2024-01-01'] })).toThrow(
      /recycleDates/,
    );
    expect(() =>
      encodeState({
        ...typical(),
        completedDelinks: [
          { date: '2024-01-02', scope: 'ALL' },
          { date: '2024-01-01', scope: 'ALL' },
        ],
      }),
    ).toThrow(/completedDelinks/);
    const ok = encodeState({ ...typical(), completedDelinks: [{ date: '2024-01-02', scope: 'NIN' }] });
    const tooMany = Buffer.concat([ok.subarray(0, ok.length - 4), Buffer.from([0x90, 0x00])]);
    expect(() => decodeState(tooMany)).toThrow(/exceed 8/);
  });

  it('refuses to encode values that do not fit the layout', () => {
    expect(() => encodeState({ ...typical(), statusDate: '1980-01-01' })).toThrow(
      /outside the storable range/,
    );
    expect(() =>
      encodeState({
        ...typical(),
        nin: [{ token: 'xyz', masked: '*******1234', linkDate: '2020-01-01', unlinkedDate: null }],
      }),
    ).toThrow(/not 16 lowercase hex/);
    expect(() =>
      encodeState({
        ...typical(),
        nin: [{ token: '0123456789abcdef', masked: '1234', linkDate: '2020-01-01', unlinkedDate: null }],
      }),
    ).toThrow(/mask '1234'/);
  });
});
