import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { OutboundCodec, outboundSchema } from './codec.ts';
import type { DeliveryRecord } from './delivery-log.ts';

const registry = { register: async () => ({ id: 42 }) } as unknown as SchemaRegistry;

const record = (body: string): DeliveryRecord => ({
  eventId: 'e-1',
  source: 'WORKER',
  type: 'ATTEMPT',
  subscriptionId: 'whsub_1',
  organisation: 'BANK1',
  webhookId: 'msg_1',
  eventType: 'CHURNED',
  msisdn: '2348031234567',
  sequence: 3,
  attempt: 1,
  outcome: 'DELIVERED',
  httpStatus: 200,
  latencyMs: 4,
  error: null,
  response: 'answer 200',
  nextAttemptAt: null,
  url: 'https://bank.example/hook',
  body,
  actor: null,
  occurredAt: 1_764_000_000_000,
  receivedAt: 1_764_000_000_004,
});

describe('OutboundCodec', () => {
  it('frames the same bytes as avsc toBuffer, small, over 1 KB and over its scratch buffer', async () => {
    const codec = await new OutboundCodec<DeliveryRecord>(registry, 'webhook-delivery').register('t');
    const type = avro.Type.forSchema(outboundSchema('webhook-delivery') as avro.Schema);
    for (const size of [10, 2_000, 20_000, 10]) {
      const r = record('é'.repeat(size));
      const frame = codec.encode(r);
      expect(frame.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 42]));
      expect(frame.subarray(5)).toEqual(type.toBuffer(r));
      expect(await codec.decode(frame)).toEqual(r);
    }
  });
});
