import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { EventCodec } from './codec.ts';
import { currentSchema, type EventKind, type EventTypes } from './events.ts';

const registry = { register: async () => ({ id: 0x01020304 }) } as unknown as SchemaRegistry;

/** The framing as the registry's own serializer writes it: magic byte, schema id, Avro body. */
function framed<K extends EventKind>(kind: K, value: EventTypes[K]): Buffer {
  const body = avro.Type.forSchema(currentSchema(kind) as avro.Schema).toBuffer(value);
  const head = Buffer.from([0, 1, 2, 3, 4]);
  return Buffer.concat([head, body]);
}

const status = (remarks: string | null): EventTypes['status-update'] => ({
  eventId: 'e1',
  source: 'KAFKA',
  occurredAt: Date.UTC(2025, 0, 1),
  receivedAt: Date.UTC(2025, 0, 1),
  operator: 'MTN',
  msisdn: '2348031234567',
  status: 'SWAPPED',
  occurrenceDate: '2025-01-01',
  reassignmentDate: null,
  remarks,
  batchId: null,
});

describe('EventCodec.encode', () => {
  it('writes the Confluent frame and the Avro body, for small records and ones larger than its scratch buffer', async () => {
    const codec = new EventCodec(registry);
    await codec.register('status-update', 't');
    for (const remarks of [null, 'short', 'x'.repeat(10_000), 'y'.repeat(70_000), 'z']) {
      expect(codec.encode('status-update', status(remarks))).toEqual(
        framed('status-update', status(remarks)),
      );
    }
  });

  it('gives every record its own bytes', async () => {
    const codec = new EventCodec(registry);
    await codec.register('status-update', 't');
    const first = codec.encode('status-update', status('first'));
    const copy = Buffer.from(first);
    codec.encode('status-update', status('second, which is longer'));
    expect(first).toEqual(copy);
  });
});
