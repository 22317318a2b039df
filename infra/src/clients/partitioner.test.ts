import { compatibilityPartitioner } from '@platformatic/kafka';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionFor } from '../partitioning.ts';
import { murmur2Partitioner } from './kafka.ts';
import { javaPartition } from './record-producer.ts';

const metadata = (count: number, leaderless: number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));

describe('murmur2Partitioner', () => {
  const ours = murmur2Partitioner();
  const kafkajs = Partitioners.DefaultPartitioner();

  it("places keyed records where kafkajs' DefaultPartitioner does, for every partition count", () => {
    for (let count = 1; count <= 24; count++) {
      const partitionMetadata = metadata(count);
      for (let i = 0; i < 300; i++) {
        const text = `2348${String(i * 7919).padStart(9, '0')}`.slice(0, 10 + (i % 4));
        for (const key of [text, Buffer.from(text)]) {
          const message = { key, value: null };
          expect(ours({ topic: 't', partitionMetadata, message })).toBe(
            kafkajs({ topic: 't', partitionMetadata, message }),
          );
        }
      }
    }
  });

  it('keeps an explicit partition, and spreads unkeyed records over partitions with a leader', () => {
    const partitionMetadata = metadata(6, [2, 4]);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'x', value: null, partition: 4 } })).toBe(4);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) seen.add(ours({ topic: 'u', partitionMetadata, message: { value: null } }));
    expect([...seen].sort()).toEqual([0, 1, 3, 5]);
    expect(
      ours({ topic: 'v', partitionMetadata: metadata(3, [0, 1, 2]), message: { value: null } }),
    ).toBeLessThan(3);
  });
});

describe("the record producer's partitioner, and @platformatic/kafka's Java-compatible one", () => {
  it("places keys as Kafka's Java partitioning does (the client takes its result modulo the partition count)", () => {
    for (let count = 1; count <= 24; count++) {
      for (let i = 0; i < 300; i++) {
        const key = `2348${String(i * 7919).padStart(9, '0')}`.slice(0, 10 + (i % 4));
        const raw = compatibilityPartitioner({ topic: 't', key: Buffer.from(key) }, Buffer.from(key));
        expect(raw % count).toBe(partitionFor(key, count));
        expect(javaPartition(null, Buffer.from(key))).toBe(raw);
      }
    }
  });
});
