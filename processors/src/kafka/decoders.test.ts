import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from './decoders.ts';

const kafkajsPartitioner = Partitioners.DefaultPartitioner();

function kafkajsPartition(key: Buffer, partitionCount: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return kafkajsPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

describe('partitionForKey', () => {
  it("agrees with kafkajs' DefaultPartitioner, which producers use, for every partition count", () => {
    for (let i = 0; i < 2000; i++) {
      const msisdn = `234${String(8_030_000_000 + i * 7919)}`;
      // Keys of every length remainder, and as a Buffer (what a consumed record carries).
      for (const key of [msisdn, msisdn.slice(0, 10 + (i % 4)), `${msisdn}:${i}`]) {
        for (const n of [1, 3, 6, 12, 100]) {
          expect(partitionForKey(Buffer.from(key), n)).toBe(kafkajsPartition(Buffer.from(key), n));
          expect(partitionForKey(key, n)).toBe(kafkajsPartition(Buffer.from(key), n));
        }
      }
    }
  });

  it('spreads numbers over all partitions', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(partitionForKey(`2348030000${String(i).padStart(3, '0')}`, 6));
    expect(seen.size).toBe(6);
  });
});
