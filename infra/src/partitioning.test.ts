import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionFor } from './partitioning.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: Buffer,
) => number;

describe('murmur2', () => {
  it('matches the Java client on its own test vectors', () => {
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2(new Uint8Array([97, 98, 99]))).toBe(479470107);
  });

  it('agrees with kafkajs on MSISDN keys of every length remainder', () => {
    for (let i = 0; i < 500; i++) {
      const key = `2348${String(i * 7919).padStart(9, '0')}`.slice(0, 10 + (i % 4));
      expect(murmur2(key)).toBe(kafkajsMurmur2(Buffer.from(key)));
    }
  });
});

describe('partitionFor', () => {
  it('is non-negative and below the partition count', () => {
    for (const key of ['2348012345678', 'foobar', '']) {
      const p = partitionFor(key, 6);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
    }
  });
});
