import type { EventCodec } from '@hub/schemas';
import type { Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Publisher, PublishIncompleteError } from './publisher.ts';

describe('Publisher', () => {
  it('has one send in flight at a time, in call order, and a failed send does not hold up the next', async () => {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const producer = {
      send: async (record: ProducerRecord) => {
        inFlight++;
        most = Math.max(most, inFlight);
        order.push(record.topic);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        if (record.topic === 't2') throw new Error('refused');
        return [];
      },
    } as unknown as Producer;
    const codec = { encode: () => Buffer.alloc(1) } as unknown as EventCodec;
    const publisher = new Publisher(producer, codec);
    const event = { key: '2348031234567', value: {} as never };
    const results = await Promise.allSettled(
      ['t0', 't1', 't2', 't3', 't4'].map((topic) => publisher.publish('status-update', topic, [event])),
    );
    expect(most).toBe(1);
    expect(order).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(PublishIncompleteError);
  });
});
