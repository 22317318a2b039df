import type { Admin, ITopicConfig } from 'kafkajs';

/** Topics whose events are facts keyed by canonical MSISDN (audit is keyed by actor). */
const SOURCE_TOPICS = {
  statusUpdates: 'status-updates',
  ninLinkages: 'nin-linkages',
  bvnLinkages: 'bvn-linkages',
  delink: 'delink',
  verifications: 'verifications',
  stateChanges: 'state-changes',
  audit: 'audit',
  accounts: 'accounts',
  /** Consent changes, data-subject requests and erasures (key: subject; MSISDN for a subscriber). */
  dataSubject: 'data-subject',
  /** Webhook subscriptions, one full snapshot per change (compacted, key: subscription id). */
  webhookSubscriptions: 'webhook-subscriptions',
  /** One record per webhook delivery attempt or redelivery request (key: subscription id). */
  webhookDeliveries: 'webhook-deliveries',
  /** Notification requests and their delivery outcomes (key: notification id). */
  notifications: 'notifications',
  /** Recycled-SIM registrations, detections and cleanup-status changes (key: MSISDN). */
  recycledSims: 'recycled-sims',
} as const;

export type SourceTopic = keyof typeof SOURCE_TOPICS;
export const sourceTopics = Object.keys(SOURCE_TOPICS) as SourceTopic[];

export type TopicNames = Record<SourceTopic, string> & {
  /** One dead-letter topic per source topic: `<topic>.dlq`. */
  deadLetters: Record<SourceTopic, string>;
};

export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export function topicNames(prefix = 'hub.'): TopicNames {
  const names = {} as Record<SourceTopic, string>;
  const deadLetters = {} as Record<SourceTopic, string>;
  for (const key of sourceTopics) {
    names[key] = `${prefix}${SOURCE_TOPICS[key]}`;
    deadLetters[key] = deadLetterTopic(names[key]);
  }
  return { ...names, deadLetters };
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Omitted: the broker's `default.replication.factor` decides (1 locally, 3 on a cluster). */
  replicationFactor?: number;
  configEntries: { name: string; value: string }[];
}

/** Kafka is the system of record: the fact topics keep everything, so stores can be rebuilt by replay. */
const KEEP_FOREVER = [{ name: 'retention.ms', value: '-1' }];
const THIRTY_DAYS_MS = String(30 * 24 * 60 * 60 * 1000);

/**
 * Every topic the hub uses. All keyed topics share one partition count: the
 * state processors rely on a number living in the same partition of each input topic.
 */
export function topicSpecs(prefix: string, partitions: number): TopicSpec[] {
  const names = topicNames(prefix);
  const specs: TopicSpec[] = [];
  for (const key of sourceTopics) {
    // accounts: compacted by entity, so a deleted user's tombstone removes their snapshots.
    const configEntries =
      key === 'stateChanges' || key === 'webhookSubscriptions' || key === 'accounts'
        ? [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.compaction.lag.ms', value: '60000' },
          ]
        : KEEP_FOREVER;
    specs.push({ topic: names[key], numPartitions: partitions, configEntries: [...configEntries] });
    specs.push({
      topic: names.deadLetters[key],
      numPartitions: partitions,
      configEntries: [{ name: 'retention.ms', value: THIRTY_DAYS_MS }],
    });
  }
  return specs;
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  while (Date.now() < deadline) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      const ready =
        found.length === topics.length && found.every((t) => t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
      last = 'partitions without a leader';
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Topics ${topics.join(', ')} have no leaders after ${timeoutMs / 1000}s (${last})`);
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
}

/**
 * Creates the topics that are missing. Safe to run concurrently and repeatedly.
 * An existing topic with a different partition count is an error, not a
 * warning: partitioning is part of the contract between producers and processors.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  const present = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !present.has(s.topic));
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.numPartitions,
      ...(s.replicationFactor === undefined ? {} : { replicationFactor: s.replicationFactor }),
      configEntries: s.configEntries,
    }));
    // kafkajs treats TOPIC_ALREADY_EXISTS as success, so a race with another creator is harmless.
    // Its own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker answers
    // until the new topic's metadata has propagated, so leaders are awaited here instead.
    await admin.createTopics({ topics, waitForLeaders: false });
    await waitForLeaders(
      admin,
      missing.map((s) => s.topic),
    );
  }
  const existingSpecs = specs.filter((s) => present.has(s.topic));
  if (existingSpecs.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existingSpecs.map((s) => s.topic) });
    const mismatched = existingSpecs.flatMap((spec) => {
      const found = metadata.topics.find((t) => t.name === spec.topic);
      const count = found?.partitions.length ?? 0;
      return count === spec.numPartitions
        ? []
        : [`${spec.topic} has ${count} partitions, expected ${spec.numPartitions}`];
    });
    if (mismatched.length > 0) {
      throw new Error(
        `Topic partition counts differ from the specification:\n  - ${mismatched.join('\n  - ')}`,
      );
    }
  }
  return { created: missing.map((s) => s.topic), existing: existingSpecs.map((s) => s.topic) };
}

/**
 * Deletes every topic whose name starts with one of the prefixes: a test's or a bench's own
 * topics once it is done, so a long-lived local broker does not collect partitions forever.
 */
export async function deleteTopicsWithPrefix(admin: Admin, ...prefixes: string[]): Promise<string[]> {
  const mine = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)));
  // In slices: one request naming thousands of topics outlives the admin client's timeout.
  for (let i = 0; i < mine.length; i += 200)
    await admin.deleteTopics({ topics: mine.slice(i, i + 200), timeout: 60_000 });
  return mine;
}
