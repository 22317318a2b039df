import { partitionFor } from '@hub/infra';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from './decoders.ts';

describe('partitionForKey', () => {
  it('agrees with the murmur2 partitioning that producers use, for every partition count', () => {
    for (let i = 0; i < 2000; i++) {
      const msisdn = `234${String(8_030_000_000 + i * 7919)}`;
      for (const n of [1, 3, 6, 12, 100]) expect(partitionForKey(msisdn, n)).toBe(partitionFor(msisdn, n));
    }
  });

  it('spreads numbers over all partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(partitionForKey(`2348030000${String(i).padStart(3, '0')}`, 6));
    expect(seen.size).toBe(6);
  });
});
