import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { valueSubject } from '@hub/schemas';
import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';

/** The outbound event families; each is a folder under schemas/avro with its versions. */
export type OutboundKind = 'webhook-subscription' | 'webhook-delivery' | 'notification';

const avroDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas', 'avro');

export function outboundSchema(kind: OutboundKind): object {
  return JSON.parse(readFileSync(join(avroDir, kind, 'v1.avsc'), 'utf8')) as object;
}

/**
 * Confluent-framed Avro for one outbound family: the current schema is registered under the
 * topic's value subject; records written with another registered version are resolved to it.
 */
export class OutboundCodec<T> {
  private readonly schema: object;
  private readonly type: avro.Type;
  private readonly resolvers = new Map<number, Promise<avro.Resolver | null>>();
  private id: number | null = null;
  /** Where values are written before they are copied out; grows to the largest value seen. */
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(
    private readonly registry: SchemaRegistry,
    kind: OutboundKind,
  ) {
    this.schema = outboundSchema(kind);
    this.type = avro.Type.forSchema(this.schema as avro.Schema);
  }

  async register(topic: string): Promise<this> {
    const { id } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(this.schema) },
      { subject: valueSubject(topic) },
    );
    this.id = id;
    return this;
  }

  /**
   * Confluent frame and Avro body in one buffer. avsc's toBuffer writes into a shared 1 KB tap and
   * writes a larger value a second time; a delivery record (it carries the body) usually is.
   */
  encode(value: T): Buffer {
    if (this.id === null) throw new Error('schema not registered');
    for (;;) {
      const end = this.type.encode(value, this.scratch, 5);
      if (end >= 0) {
        const frame = Buffer.allocUnsafe(end);
        this.scratch.copy(frame, 5, 5, end);
        frame.writeUInt8(0, 0);
        frame.writeUInt32BE(this.id, 1);
        return frame;
      }
      // `end` is minus the bytes missing.
      this.scratch = Buffer.allocUnsafeSlow(Math.max(2 * this.scratch.length, this.scratch.length - end));
    }
  }

  async decode(bytes: Buffer | null): Promise<T> {
    if (!bytes || bytes.length < 6 || bytes.readUInt8(0) !== 0)
      throw new Error('not a Confluent-framed record');
    const id = bytes.readUInt32BE(1);
    const resolver = id === this.id ? null : await this.resolver(id);
    const body = bytes.subarray(5);
    return (resolver ? this.type.fromBuffer(body, resolver) : this.type.fromBuffer(body)) as T;
  }

  private resolver(id: number): Promise<avro.Resolver | null> {
    let r = this.resolvers.get(id);
    if (!r) {
      r = this.registry.getSchema(id).then((schema) => {
        const writer = avro.Type.forSchema(JSON.parse(JSON.stringify(schema)) as avro.Schema);
        return this.type.equals(writer) ? null : this.type.createResolver(writer);
      });
      this.resolvers.set(id, r);
    }
    return r;
  }
}
