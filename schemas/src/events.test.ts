import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { currentSchema, EVENT_KINDS, schemaVersions } from './events.ts';

describe('Avro schemas', () => {
  it.each(EVENT_KINDS)('%s: every schema parses and carries an event id', (kind) => {
    for (const schema of schemaVersions(kind)) {
      const type = avro.Type.forSchema(schema as avro.Schema) as avro.types.RecordType;
      expect(type.fields.map((f) => f.name)).toContain('eventId');
    }
  });

  it.each(EVENT_KINDS)('%s: each version reads data written with the previous one (BACKWARD)', (kind) => {
    const versions = schemaVersions(kind).map((s) => avro.Type.forSchema(s as avro.Schema));
    for (let v = 1; v < versions.length; v++) {
      const reader = versions[v]!;
      const writer = versions[v - 1]!;
      expect(() => reader.createResolver(writer), `v${v + 1} cannot read v${v}`).not.toThrow();
      const sample = writer.random();
      const read = reader.fromBuffer(writer.toBuffer(sample), reader.createResolver(writer));
      expect(reader.isValid(read)).toBe(true);
    }
  });

  it('fact events carry source, occurrence time and received time', () => {
    for (const kind of [
      'status-update',
      'nin-linkage',
      'bvn-linkage',
      'delink',
      'verification',
      'state-change',
      'audit',
    ] as const) {
      const names = (
        avro.Type.forSchema(currentSchema(kind) as avro.Schema) as avro.types.RecordType
      ).fields.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['eventId', 'source', 'occurredAt', 'receivedAt']));
    }
  });

  it('a status update written with v1 reads as v2 with batchId null', () => {
    const [v1, v2] = schemaVersions('status-update').map((s) => avro.Type.forSchema(s as avro.Schema));
    const record = {
      eventId: 'e1',
      source: 'KAFKA',
      operator: 'MTN',
      msisdn: '2348031234567',
      status: 'SWAPPED',
      occurrenceDate: '2025-09-06',
      reassignmentDate: '2025-09-02',
      remarks: null,
      occurredAt: 1,
      receivedAt: 2,
    };
    const read = v2!.fromBuffer(v1!.toBuffer(record), v2!.createResolver(v1!)) as Record<string, unknown>;
    expect(read.batchId).toBeNull();
    expect(read.status).toBe('SWAPPED');
  });
});
