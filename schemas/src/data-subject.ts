import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { UndecodableRecordError, valueSubject } from './codec.ts';

export const DATA_SUBJECT_EVENT_TYPES = [
  'CONSENT_GRANTED',
  'CONSENT_WITHDRAWN',
  'REQUEST_FILED',
  'REQUEST_ASSIGNED',
  'REQUEST_FULFILLED',
  'REQUEST_REJECTED',
  /** A subscriber's erasure is ordered (request fulfilled); the state builder decides its position. */
  'SUBSCRIBER_ERASURE_ORDERED',
  /** The erasure's position in every topic it erases from, decided by the state builder. */
  'SUBSCRIBER_ERASED',
  'ACCOUNT_ERASED',
] as const;
export type DataSubjectEventType = (typeof DATA_SUBJECT_EVENT_TYPES)[number];
export type DataSubjectType = 'SUBSCRIBER' | 'ACCOUNT';

/** Where an erasure stands in one topic partition: the subject's facts below `offset` are erased. */
export interface ErasureCutoff {
  topic: string;
  partition: number;
  offset: number;
}

/** One event on the data-subject topic (schemas/avro/data-subject), keyed by `subject`. */
export interface DataSubjectEvent {
  eventId: string;
  source: string;
  type: DataSubjectEventType;
  subjectType: DataSubjectType;
  subject: string;
  requestId: string | null;
  actor: string;
  purpose: string | null;
  cutoffs: ErasureCutoff[];
  /** JSON object text; never raw NIN/BVN. */
  details: string;
  occurredAt: number;
  receivedAt: number;
}

const schemaFile = join(dirname(fileURLToPath(import.meta.url)), '..', 'avro', 'data-subject', 'v1.avsc');

/** The data-subject event schema. Kept out of EVENT_KINDS: it is not a raw history table's family. */
export const DATA_SUBJECT_SCHEMA: object = JSON.parse(readFileSync(schemaFile, 'utf8')) as object;

/**
 * Avro with Confluent framing for data-subject events, registered under the data-subject topic's
 * value subject. A record written with another registered version is resolved to this one.
 */
export class DataSubjectCodec {
  private readonly type = avro.Type.forSchema(DATA_SUBJECT_SCHEMA as avro.Schema);
  private readonly resolvers = new Map<number, Promise<avro.Resolver | null>>();
  private id: number | null = null;

  constructor(private readonly registry: SchemaRegistry) {}

  async register(topic: string): Promise<number> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(DATA_SUBJECT_SCHEMA) },
      { subject: valueSubject(topic) },
    );
    this.id = id;
    return id;
  }

  encode(event: DataSubjectEvent): Buffer {
    if (this.id === null) throw new Error('data-subject schema not registered');
    const body = this.type.toBuffer(event);
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(this.id, 1);
    body.copy(frame, 5);
    return frame;
  }

  async decode(bytes: Buffer | null): Promise<DataSubjectEvent> {
    if (!bytes || bytes.length < 6 || bytes.readUInt8(0) !== 0)
      throw new UndecodableRecordError('not a Confluent-framed record');
    const id = bytes.readUInt32BE(1);
    let resolver: avro.Resolver | null = null;
    try {
      resolver = id === this.id ? null : await this.resolver(id);
    } catch (err) {
      throw new UndecodableRecordError(`schema id ${id}: ${(err as Error).message}`);
    }
    try {
      return (
        resolver ? this.type.fromBuffer(bytes.subarray(5), resolver) : this.type.fromBuffer(bytes.subarray(5))
      ) as DataSubjectEvent;
    } catch (err) {
      throw new UndecodableRecordError(
        `Avro payload does not match schema id ${id}: ${(err as Error).message}`,
      );
    }
  }

  private resolver(id: number): Promise<avro.Resolver | null> {
    let r = this.resolvers.get(id);
    if (!r) {
      r = this.registry.getSchema(id).then((schema) => {
        const writer = avro.Type.forSchema(JSON.parse(JSON.stringify(schema)) as avro.Schema);
        return this.type.equals(writer) ? null : this.type.createResolver(writer);
      });
      r.catch(() => this.resolvers.delete(id));
      this.resolvers.set(id, r);
    }
    return r;
  }
}
