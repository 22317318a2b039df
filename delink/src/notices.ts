import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, createSchemaRegistry, type TopicNames } from '@hub/infra';
import { valueSubject } from '@hub/schemas';
import type { DelinkRequestDoc } from '@hub/state/workflow/model';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { Producer } from 'kafkajs';

const schemaPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'schemas',
  'avro',
  'notification',
  'v1.avsc',
);

type Recipient = 'SUBSCRIBER' | 'OPERATOR' | 'NIBSS';

/**
 * Notification intents of the workflow, for the outbound worker to deliver: QUEUED notification
 * events on the notifications topic (schemas/avro/notification). The subscriber is told when a
 * request is approved; the operator and NIBSS when it is completed. Ids are derived from the
 * request, so an intent re-sent after a crash is the same notification.
 */
export class WorkflowNotices {
  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly type: avro.Type,
    private readonly schemaId: number,
  ) {}

  static async create(config: Config, topics: TopicNames, producer: Producer): Promise<WorkflowNotices> {
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
    const { id } = await createSchemaRegistry(config).register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: valueSubject(topics.notifications) },
    );
    return new WorkflowNotices(
      producer,
      topics.notifications,
      avro.Type.forSchema(schema as avro.Schema),
      id,
    );
  }

  async approved(doc: DelinkRequestDoc, now: number): Promise<void> {
    await this.send([
      this.intent(
        doc,
        'SUBSCRIBER',
        'SMS',
        null,
        'approved',
        `The NIN/BVN links of this number's previous owner (${doc.linkages.map((l) => l.masked).join(', ')}) are being removed. Reference ${doc.id}.`,
        now,
      ),
    ]);
  }

  async completed(doc: DelinkRequestDoc, now: number): Promise<void> {
    const text = `Delink request ${doc.id} for +${doc.msisdn} is completed: every previous-owner linkage (${doc.linkages.map((l) => l.masked).join(', ')}) is cleared.`;
    await this.send([
      this.intent(doc, 'OPERATOR', 'WEBHOOK', doc.operator, 'completed', text, now),
      this.intent(doc, 'NIBSS', 'WEBHOOK', 'NIBSS', 'completed', text, now),
    ]);
  }

  private intent(
    doc: DelinkRequestDoc,
    recipientType: Recipient,
    channel: 'SMS' | 'WEBHOOK',
    recipient: string | null,
    step: string,
    message: string,
    now: number,
  ) {
    const id = `${doc.id}:${step}:${recipientType.toLowerCase()}`;
    return {
      eventId: `${id}:queued`,
      source: 'WORKFLOW',
      id,
      recipientType,
      recipient,
      channel,
      msisdn: doc.msisdn,
      template: `delink-${step}`,
      message,
      subject: step === 'completed' ? 'Recycled SIM cleanup completed' : null,
      organisation: recipientType === 'OPERATOR' ? doc.operator : null,
      status: 'QUEUED',
      attempts: 0,
      lastError: null,
      actor: 'system:delink-dispatcher',
      createdAt: now,
      occurredAt: now,
      receivedAt: now,
    };
  }

  private async send(values: object[]): Promise<void> {
    const messages = values.map((v) => {
      const body = this.type.toBuffer(v);
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame.writeUInt8(0, 0);
      frame.writeUInt32BE(this.schemaId, 1);
      body.copy(frame, 5);
      return { key: (v as { id: string }).id, value: frame };
    });
    await this.producer.send({ topic: this.topic, messages });
  }
}
