import type { Kafka, Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createProducer, oneSendAtATime } from './kafka.ts';

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

describe('createProducer', () => {
  it('sends through a new producer after a failed send, and closes the old one', async () => {
    const made: { sent: number; connected: boolean; fail: boolean }[] = [];
    const kafka = {
      producer: () => {
        const p = { sent: 0, connected: false, fail: made.length === 0 };
        made.push(p);
        const send = async () => {
          if (!p.connected) throw new Error('not connected');
          p.sent++;
          if (p.fail) throw new Error('request timed out');
          return [];
        };
        return {
          connect: async () => {
            p.connected = true;
          },
          disconnect: async () => {
            p.connected = false;
          },
          send,
          sendBatch: send,
        };
      },
    } as unknown as Kafka;
    const producer = createProducer(kafka);
    await producer.connect();
    await expect(producer.send({ topic: 't', messages: [] })).rejects.toThrow('request timed out');
    expect(made).toHaveLength(1);
    await producer.send({ topic: 't', messages: [] });
    await producer.sendBatch({ topicMessages: [] });
    expect(made).toHaveLength(2);
    expect(made.map((p) => [p.sent, p.connected])).toEqual([
      [1, false],
      [2, true],
    ]);
  });
});
