import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { currentSchema, type EventKind, type EventTypes } from './events.ts';

/** Confluent TopicNameStrategy: the value subject of a topic. */
export const valueSubject = (topic: string): string => `${topic}-value`;

/** Thrown for bytes that are not a decodable Confluent-framed Avro record. */
export class UndecodableRecordError extends Error {
  override readonly name = 'UndecodableRecordError';
}

/** The schema id of a Confluent-framed record; throws UndecodableRecordError for anything else. */
function frameSchemaId(bytes: Buffer | null): number {
  if (!bytes || bytes.length < 6)
    throw new UndecodableRecordError('record value is empty or shorter than a frame');
  if (bytes.readUInt8(0) !== 0) {
    throw new UndecodableRecordError(`magic byte is ${bytes.readUInt8(0)}, expected 0 (Confluent framing)`);
  }
  return bytes.readUInt32BE(1);
}

interface Resolved {
  reader: avro.Type;
  resolver: avro.Resolver | null;
}

/**
 * Avro with Confluent framing (magic byte 0, 4-byte big-endian schema id) for the hub's event
 * families. Each kind's current schema is registered under its topic's value subject at start-up.
 * Decoding accepts any schema id the registry knows and resolves the writer's schema to the current
 * one, so a record an operator produced with an older (backward-compatible) version still decodes.
 * Types and resolvers are cached per schema id: the hot path does no registry round trips.
 */
export class EventCodec {
  private readonly writeIds = new Map<EventKind, number>();
  private readonly readerTypes = new Map<EventKind, avro.Type>();
  private readonly resolved = new Map<EventKind, Map<number, Resolved>>();
  private readonly writerTypes = new Map<number, Promise<avro.Type>>();
  /** Where `encode` writes a record before copying it out; grows to the largest record seen. */
  private scratch = Buffer.allocUnsafe(4096);

  constructor(private readonly registry: SchemaRegistry) {}

  /** Registers (idempotently) the current schema of `kind` for `topic` and remembers its id. */
  async register(kind: EventKind, topic: string): Promise<number> {
    const schema = currentSchema(kind);
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: valueSubject(topic) },
    );
    this.writeIds.set(kind, id);
    this.readerType(kind);
    return id;
  }

  schemaId(kind: EventKind): number {
    const id = this.writeIds.get(kind);
    if (id === undefined) throw new Error(`schema for ${kind} not registered`);
    return id;
  }

  /**
   * The framed record, written into a scratch buffer and copied once into a pooled one: avsc's
   * `toBuffer` zero-fills a fresh buffer per record and the frame was a second allocation and copy,
   * together most of a small record's encoding cost. The bytes are the same.
   */
  encode<K extends EventKind>(kind: K, value: EventTypes[K]): Buffer {
    const type = this.readerType(kind);
    const id = this.schemaId(kind);
    let end = type.encode(value, this.scratch, 5);
    while (end < 0) {
      this.scratch = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.scratch.length - end));
      end = type.encode(value, this.scratch, 5);
    }
    const frame = Buffer.allocUnsafe(end);
    frame[0] = 0;
    frame.writeUInt32BE(id, 1);
    this.scratch.copy(frame, 5, 5, end);
    return frame;
  }

  async decode<K extends EventKind>(kind: K, bytes: Buffer | null): Promise<EventTypes[K]> {
    const id = frameSchemaId(bytes);
    return this.read<K>(id, bytes!, await this.resolve(kind, id));
  }

  /**
   * `decode` without a promise, for the consumers' hot path: returns undefined only when the
   * record's writer schema is not resolved yet (the first record of a schema id), and the caller
   * then uses `decode`. Throws UndecodableRecordError like `decode`.
   */
  decodeCached<K extends EventKind>(kind: K, bytes: Buffer | null): EventTypes[K] | undefined {
    const id = frameSchemaId(bytes);
    const hit = this.resolved.get(kind)?.get(id);
    return hit ? this.read<K>(id, bytes!, hit) : undefined;
  }

  private read<K extends EventKind>(id: number, bytes: Buffer, r: Resolved): EventTypes[K] {
    try {
      const body = bytes.subarray(5);
      return (
        r.resolver ? r.reader.fromBuffer(body, r.resolver) : r.reader.fromBuffer(body)
      ) as EventTypes[K];
    } catch (err) {
      throw new UndecodableRecordError(
        `Avro payload does not match schema id ${id}: ${(err as Error).message}`,
      );
    }
  }

  private readerType(kind: EventKind): avro.Type {
    let t = this.readerTypes.get(kind);
    if (!t) {
      t = avro.Type.forSchema(currentSchema(kind) as avro.Schema);
      this.readerTypes.set(kind, t);
    }
    return t;
  }

  private async resolve(kind: EventKind, id: number): Promise<Resolved> {
    let byId = this.resolved.get(kind);
    if (!byId) {
      byId = new Map();
      this.resolved.set(kind, byId);
    }
    const hit = byId.get(id);
    if (hit) return hit;
    const writer = await this.writerType(id);
    const reader = this.readerType(kind);
    let resolver: avro.Resolver | null = null;
    if (!reader.equals(writer)) {
      try {
        resolver = reader.createResolver(writer);
      } catch (err) {
        throw new UndecodableRecordError(
          `schema id ${id} cannot be read as ${kind}: ${(err as Error).message}`,
        );
      }
    }
    const entry = { reader, resolver };
    byId.set(id, entry);
    return entry;
  }

  private writerType(id: number): Promise<avro.Type> {
    let p = this.writerTypes.get(id);
    if (!p) {
      p = this.registry.getSchema(id).then(
        (s) => avro.Type.forSchema(JSON.parse(JSON.stringify(s)) as avro.Schema),
        (err: Error & { status?: number }) => {
          this.writerTypes.delete(id);
          // Only a definite "not found" makes the record undecodable; anything else is retried.
          if (err.status === 404) {
            throw new UndecodableRecordError(`schema id ${id} is unknown to the registry`);
          }
          throw err;
        },
      );
      this.writerTypes.set(id, p);
    }
    return p;
  }
}
