import { dateToDays, daysToDate, OPERATORS, TELECOM_STATUSES } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, StateEncodingError } from './encoding.ts';
import { mulberry32 as rng } from './random.ts';
import {
  DELINK_SCOPES,
  emptyRecord,
  LINKAGE_LIMIT,
  OFFSET_MAX,
  type StateRecord,
  TEXT_LIMIT,
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
    nin: Array.from({ length: r() < 0.9 ? int(4) : int(LINKAGE_LIMIT + 1) }, () => ({
      token: hex(16),
      masked: masked(),
      linkDate: date(),
      unlinkedDate: maybe(date, 0.4),
    })),
    bvn: Array.from({ length: r() < 0.9 ? int(4) : int(LINKAGE_LIMIT + 1) }, () => ({
      token: hex(16),
      masked: masked(),
      holderNinToken: maybe(() => hex(16), 0.6),
      linkDate: date(),
      unlinkedDate: maybe(date, 0.4),
    })),
    droppedLinkages:
      r() < 0.8
        ? { nin: 0, bvn: 0 }
        : { nin: r() < 0.5 ? 0 : 1 + int(20_000), bvn: r() < 0.5 ? 0 : 1 + int(9) },
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
    expect(() => decodeState(Buffer.from([0x80, 0x30, 0, 0]))).toThrow(/format 4 is not supported/);
    expect(() => decodeState(Buffer.from([0x00, 0x00, 200]))).toThrow(/operator index 200 is unknown/);
  });

  it('writes a record without recycle/delink history in format 1, adding nothing to it', () => {
    const rec = { ...typical(), lastChurnedDate: '2023-01-10', recycleDates: ['2023-01-10'] };
    const bytes = encodeState(rec);
    expect(bytes.length).toBe(encodeState(typical()).length + 2);
    expect(bytes[0]! & 0x80).toBe(0);
    expect(decodeState(bytes)).toEqual(rec);
  });

  it('writes the history alone in format 2: 2 count bytes and 2 bytes per date, as before format 3', () => {
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
    // The same history as a tagged section of format 3 is not the encoder's form, so it is refused.
    const historyAt = plain.length + 1;
    const tagged = Buffer.concat([bytes.subarray(0, historyAt), Buffer.from([1]), bytes.subarray(historyAt)]);
    tagged[1] = 0x20;
    expect(() => decodeState(tagged)).toThrow(/format 3 with only a history section/);
  });

  it('writes dropped-linkage counts as their own section, after the history', () => {
    const rec: StateRecord = {
      ...typical(),
      droppedLinkages: { nin: 10_042, bvn: 0 },
      completedDelinks: [{ date: '2024-02-01', scope: 'NIN' }],
    };
    const bytes = encodeState(rec);
    expect(bytes[1]).toBe(0x20);
    expect(decodeState(bytes)).toEqual(rec);
    const noHistory = encodeState({ ...rec, completedDelinks: [] });
    // tag 2, varint 10042 (2 bytes), varint 0
    expect(noHistory.subarray(-4).toString('hex')).toBe('02ba4e00');
    expect(decodeState(noHistory)).toEqual({ ...rec, completedDelinks: [] });
    // Sections out of order, repeated, empty or unknown are refused.
    expect(() => decodeState(Buffer.concat([noHistory, Buffer.from([0x01, 0x00, 0x00])]))).toThrow(
      /section tag 1 follows tag 2/,
    );
    expect(() => decodeState(Buffer.concat([noHistory.subarray(0, -4), Buffer.from([2, 0, 0])]))).toThrow(
      /dropped-linkages section is empty/,
    );
    expect(() => decodeState(Buffer.concat([noHistory.subarray(0, -4), Buffer.from([3])]))).toThrow(
      /section tag 3 is unknown/,
    );
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

/**
 * The encoder and the decoder agree on every bound: what encodeState writes, decodeState reads back
 * as the same record; what is outside a bound, encodeState refuses (so nothing unreadable is ever
 * stored); and whatever bytes decodeState accepts are exactly the bytes encodeState writes for the
 * record it returns (so the decoder accepts nothing the encoder would not write).
 */
describe('state record bounds: encoder and decoder agree', () => {
  const link = (i: number) => ({
    token: i.toString(16).padStart(16, '0'),
    masked: '*******1234',
    linkDate: '2020-01-01',
    unlinkedDate: null,
  });
  const bvnLink = (i: number) => ({ ...link(i), holderNinToken: null });

  /** One bound broken per case; each must be refused by the encoder. */
  const outOfBounds: [string, (r: StateRecord) => StateRecord][] = [
    [
      'NIN linkages over the limit',
      (r) => ({ ...r, nin: Array.from({ length: LINKAGE_LIMIT + 1 }, (_, i) => link(i)) }),
    ],
    [
      'BVN linkages over the limit',
      (r) => ({ ...r, bvn: Array.from({ length: LINKAGE_LIMIT + 1 }, (_, i) => bvnLink(i)) }),
    ],
    [
      'a flood of 10,050 NIN linkages',
      (r) => ({ ...r, nin: Array.from({ length: 10_050 }, (_, i) => link(i)) }),
    ],
    ['a repeated NIN token', (r) => ({ ...r, nin: [link(1), link(1)] })],
    ['a repeated BVN token', (r) => ({ ...r, bvn: [bvnLink(1), bvnLink(1)] })],
    ['a negative version', (r) => ({ ...r, version: -1 })],
    ['a fractional version', (r) => ({ ...r, version: 1.5 })],
    ['a version past 2^53', (r) => ({ ...r, version: 2 ** 53 })],
    ['an offset past 2^63-1', (r) => ({ ...r, offsets: { ...r.offsets, nin: OFFSET_MAX + 1n } })],
    ['a negative offset', (r) => ({ ...r, offsets: { ...r.offsets, nin: -1n } })],
    ['an empty custom operator', (r) => ({ ...r, operator: '' })],
    ['an operator over the text limit', (r) => ({ ...r, operator: 'X'.repeat(TEXT_LIMIT + 1) })],
    ['an operator with a lone surrogate', (r) => ({ ...r, operator: 'OP\uD800' })],
    [
      'a request id over the text limit',
      (r) => ({ ...r, openDelink: { requestId: 'r'.repeat(TEXT_LIMIT + 1), action: 'REQUESTED' } }),
    ],
    ['a negative dropped count', (r) => ({ ...r, droppedLinkages: { nin: -1, bvn: 0 } })],
    ['a fractional dropped count', (r) => ({ ...r, droppedLinkages: { nin: 0, bvn: 0.5 } })],
    ['a date before 1990', (r) => ({ ...r, lastSwappedDate: '1989-12-31' })],
    ['a date after 2169-06-06', (r) => ({ ...r, lastSwappedDate: '2169-06-07' })],
  ];

  it.each(outOfBounds)('the encoder refuses %s', (_, breakIt) => {
    expect(() => encodeState(breakIt(typical()))).toThrow(StateEncodingError);
  });

  it('accepts every bound at its limit, and reads it back', () => {
    const atLimit: StateRecord = {
      ...typical(),
      version: Number.MAX_SAFE_INTEGER,
      operator: 'O'.repeat(TEXT_LIMIT),
      offsets: { status: OFFSET_MAX, nin: 0n, bvn: null, delink: OFFSET_MAX },
      nin: Array.from({ length: LINKAGE_LIMIT }, (_, i) => ({ ...link(i), unlinkedDate: '2169-06-06' })),
      bvn: Array.from({ length: LINKAGE_LIMIT }, (_, i) => ({
        ...bvnLink(i),
        holderNinToken: link(i).token,
      })),
      droppedLinkages: { nin: Number.MAX_SAFE_INTEGER, bvn: Number.MAX_SAFE_INTEGER },
      openDelink: { requestId: 'é'.repeat(TEXT_LIMIT), action: 'APPROVED' },
      lastSwappedDate: '1990-01-01',
    };
    expect(decodeState(encodeState(atLimit))).toEqual(atLimit);
    // Every list, count and text at its limit: the most one number can ever cost.
    const worst: StateRecord = {
      ...atLimit,
      operator: '\u{1F600}'.repeat(TEXT_LIMIT / 2),
      openDelink: { requestId: '\u{1F600}'.repeat(TEXT_LIMIT / 2), action: 'APPROVED' },
      reassignmentDate: '2100-01-01',
      lastSwappedDate: '2100-01-01',
      bvn: atLimit.bvn.map((l) => ({ ...l, unlinkedDate: '2100-01-01' })),
      offsets: { status: OFFSET_MAX, nin: OFFSET_MAX, bvn: OFFSET_MAX, delink: OFFSET_MAX },
    };
    expect(encodeState(worst).length).toBeLessThan(700);
  });

  it('round-trips whatever the encoder accepts, over random records in and out of bounds', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const rec = randomRecord(seed);
      const broken = seed % 3 === 0 ? outOfBounds[seed % outOfBounds.length]![1](rec) : rec;
      let bytes: Buffer;
      try {
        bytes = encodeState(broken);
      } catch (err) {
        expect(err, `seed ${seed}`).toBeInstanceOf(StateEncodingError);
        expect(broken, `seed ${seed}: refused a record within bounds`).not.toBe(rec);
        continue;
      }
      expect(decodeState(bytes), `seed ${seed}`).toEqual(broken);
    }
  });

  it('decodes only what the encoder writes: every accepted mutation re-encodes to the same bytes', () => {
    const r = rng(99);
    let accepted = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const bytes = Buffer.from(encodeState(randomRecord(seed)));
      const mutations = 1 + Math.floor(r() * 3);
      for (let m = 0; m < mutations; m++) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256);
      let decoded: StateRecord;
      try {
        decoded = decodeState(bytes);
      } catch (err) {
        expect(err, `seed ${seed}`).toBeInstanceOf(StateEncodingError);
        continue;
      }
      accepted++;
      expect(encodeState(decoded).toString('hex'), `seed ${seed}`).toBe(bytes.toString('hex'));
    }
    expect(accepted).toBeGreaterThan(100);
  });
});
