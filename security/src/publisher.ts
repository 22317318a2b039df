import { randomUUID } from 'node:crypto';
import { partitionFor } from '@hub/infra';
import type { Kafka, Producer } from 'kafkajs';
import {
  type AccountCodec,
  type AccountEvent,
  type AccountEventType,
  accountEventKey,
  accountEventOrganisation,
  userRecordKey,
} from './accounts.ts';
import type { AccountsProjector } from './projector.ts';

/** How long an admin change waits to be visible to this instance before answering anyway. */
const READ_YOUR_WRITES_MS = 5_000;

export interface PublisherDeps {
  producer: Producer;
  codec: AccountCodec;
  topic: string;
  /** Partitions of the accounts topic (KAFKA_PARTITIONS): an organisation's records share one. */
  partitions: number;
  projector: AccountsProjector | null;
  now: () => number;
}

/**
 * Writes changes to the accounts topic (acks=all), keyed by the entity they change and placed on
 * their organisation's partition (where records keyed by organisation alone always went, so the
 * projection's offset order holds across both), and waits until this instance's projection holds
 * them, so the caller's next request sees them.
 */
export class AccountsPublisher {
  constructor(private readonly d: PublisherDeps) {}

  async publish(
    type: AccountEventType,
    actor: string,
    entity: Partial<Pick<AccountEvent, 'organisation' | 'user' | 'apiKey'>>,
  ): Promise<void> {
    const now = this.d.now();
    const event: AccountEvent = {
      eventId: randomUUID(),
      source: 'API',
      type,
      actor,
      organisation: entity.organisation ?? null,
      user: entity.user ?? null,
      apiKey: entity.apiKey ?? null,
      occurredAt: now,
      receivedAt: now,
    };
    await this.send(accountEventOrganisation(event), accountEventKey(event), this.d.codec.encode(event));
  }

  /** A tombstone for a user: compaction then removes every snapshot of them (and their password hash). */
  async deleteUser(organisationId: string, userId: string): Promise<void> {
    await this.send(organisationId, userRecordKey(organisationId, userId), null);
  }

  private async send(organisation: string, key: string, value: Buffer | null): Promise<void> {
    const [meta] = await this.d.producer.send({
      topic: this.d.topic,
      messages: [{ key, value, partition: partitionFor(organisation, this.d.partitions) }],
    });
    if (!this.d.projector || !meta?.baseOffset) return;
    await Promise.race([
      this.d.projector.waitFor(meta.partition, Number(meta.baseOffset) + 1),
      new Promise((resolve) => setTimeout(resolve, READ_YOUR_WRITES_MS).unref()),
    ]);
  }
}

/** The accounts topic's partition count, from the brokers (a topic created moments ago may lack metadata). */
export async function topicPartitions(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const count = topics[0]?.partitions.length ?? 0;
        if (count > 0) return count;
        throw new Error(`topic ${topic} has no partitions`);
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
