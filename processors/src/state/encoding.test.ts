import { dateToDays, daysToDate, OPERATORS, TELECOM_STATUSES } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { decodeState, encodeState, StateEncodingError } from './encoding.ts';
import { emptyRecord, type StateRecord } from './record.ts';

/** Small deterministic PRNG (mulberry32) so a failing case can be reproduced from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  return {
    version: r() < 0.5 ? int(300) : int(2 ** 40),
    operator: hasStatus ? (r() < 0.9 ? OPERATORS[int(OPERATORS.length)]!.code : `OP-${hex(int(12))}`) : null,
    telecomStatus: hasStatus ? TELECOM_STATUSES[int(TELECOM_STATUSES.length)]! : null,
    statusDate: hasStatus ? date() : null,
    reassignmentDate: maybe(date, 0.3),
    lastSwappedDate: maybe(date, 0.3),
    lastChurnedDate: maybe(date, 0.3),
    lastReassignedDate: maybe(date, 0.3),
    nin: Array.from({ length: int(4) }, () => ({
      token: hex(16),
      masked: masked(),
      linkDate: date(),
      clearedDate: maybe(date, 0.4),
    })),
    bvn: Array.from({ length: int(4) }, () => ({
      token: hex(16),
      masked: masked(),
      holderNinToken: maybe(() => hex(16), 0.6),
      linkDate: date(),
      clearedDate: maybe(date, 0.4),
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
    nin: [{ token: '0123456789abcdef', masked: '*******1234', linkDate: '2021-05-01', clearedDate: null }],
    bvn: [
      {
        token: 'fedcba9876543210',
        masked: '*******0042',
        holderNinToken: '0123456789abcdef',
        linkDate: '2019-08-01',
        clearedDate: null,
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
    expect(() => decodeState(Buffer.from([0x80, 0x10, 0, 0]))).toThrow(/format 2 is not supported/);
    expect(() => decodeState(Buffer.from([0x00, 0x00, 200]))).toThrow(/operator index 200 is unknown/);
  });

  it('refuses to encode values that do not fit the layout', () => {
    expect(() => encodeState({ ...typical(), statusDate: '1980-01-01' })).toThrow(
      /outside the storable range/,
    );
    expect(() =>
      encodeState({
        ...typical(),
        nin: [{ token: 'xyz', masked: '*******1234', linkDate: '2020-01-01', clearedDate: null }],
      }),
    ).toThrow(/not 16 lowercase hex/);
    expect(() =>
      encodeState({
        ...typical(),
        nin: [{ token: '0123456789abcdef', masked: '1234', linkDate: '2020-01-01', clearedDate: null }],
      }),
    ).toThrow(/mask '1234'/);
  });
});
