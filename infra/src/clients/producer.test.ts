import type { Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { oneSendAtATime } from './kafka.ts';

describe('oneSendAtATime', () => {
  it('has one send in flight at a time, in call order, and a failed send does not hold up the next', async () => {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const send = async (record: ProducerRecord) => {
      inFlight++;
      most = Math.max(most, inFlight);
      order.push(record.topic);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      if (record.topic === 't2') throw new Error('refused');
      return [];
    };
    const producer = oneSendAtATime({ send, sendBatch: send } as unknown as Producer);
    const results = await Promise.allSettled(
      ['t0', 't1', 't2', 't3', 't4'].map((topic) => producer.send({ topic, messages: [] })),
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
  });
});
