import type { ClickHouseClient } from '@clickhouse/client';
import { type Config, createClickHouse, createDatabase, quoteIdentifier, topicNames } from '@hub/infra';
import { RAW_TABLES } from '@hub/state/history/tables';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../processors/src/history/migrate.ts';
import { applyRetention, DEAD_LETTER_RETENTION_MS } from '../../processors/src/history/retention.ts';
import { createTestTopics, testConfig } from '../support/stack.ts';

let config: Config;
let clickhouse: ClickHouseClient;
let admin: Admin;
let db: string;
const NOW = Date.UTC(2026, 11, 1, 12);

function statusRow(id: string, day: string) {
  return {
    event_id: id,
    source: 'GENERATOR',
    kafka_topic: 't',
    kafka_partition: 0,
    kafka_offset: 0,
    msisdn: '2348031234567',
    operator: 'MTN',
    status: 'NORMAL',
    occurrence_date: day,
    reassignment_date: null,
    remarks: null,
    batch_id: null,
    occurred_at: `${day} 10:00:00`,
    received_at: `${day} 10:00:00`,
    occurred_date: day,
    received_date: day,
  };
}

function verificationRow(id: string, day: string) {
  return {
    event_id: id,
    source: 'API',
    kafka_topic: 't',
    kafka_partition: 0,
    kafka_offset: 0,
    msisdn: '2348031234567',
    request_id: id,
    organisation: 'bank-a',
    channel: 'SINGLE',
    verification_status: 'VERIFIED',
    telecom_status: 'NORMAL',
    lifecycle_status: 'ACTIVE',
    occurred_at: `${day} 10:00:00`,
    received_at: `${day} 10:00:00`,
    occurred_date: day,
    received_date: day,
  };
}

async function months(table: string): Promise<string[]> {
  const r = await clickhouse.query({
    query: `SELECT DISTINCT toString(toYYYYMM(received_date)) AS m FROM ${db}.${table} ORDER BY m`,
    format: 'JSONEachRow',
  });
  return (await r.json<{ m: string }>()).map((x) => x.m);
}

async function deadLetterRetention(topic: string): Promise<string | undefined> {
  const d = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
  });
  return d.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
}

/** A topic's config change reaches the broker's reads a moment after it is acknowledged. */
async function waitForRetention(topic: string, value: string): Promise<void> {
  for (let i = 0; (await deadLetterRetention(topic)) !== value; i++) {
    if (i > 200) throw new Error(`${topic} never showed retention.ms ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  config = testConfig('retention', { KAFKA_PARTITIONS: '1' });
  await createDatabase(config);
  clickhouse = createClickHouse(config);
  await migrate(clickhouse, config.CLICKHOUSE_DATABASE);
  db = quoteIdentifier(config.CLICKHOUSE_DATABASE);
  const kafka = await createTestTopics(config);
  admin = kafka.admin();
  await admin.connect();
  await clickhouse.insert({
    table: `${db}.${RAW_TABLES['status-update']}`,
    values: [
      statusRow('s-old', '2018-03-10'),
      statusRow('s-edge', '2020-01-05'),
      statusRow('s-new', '2026-11-20'),
    ],
    format: 'JSONEachRow',
  });
  await clickhouse.insert({
    table: `${db}.${RAW_TABLES.verification}`,
    values: [verificationRow('v-old', '2024-11-30'), verificationRow('v-new', '2025-01-02')],
    format: 'JSONEachRow',
  });
}, 60_000);

afterAll(async () => {
  await clickhouse?.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await clickhouse?.close();
  await admin?.disconnect();
});

describe('the retention job', () => {
  it('reports without changing anything on a dry run', async () => {
    const topics = topicNames(config.TOPIC_PREFIX);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topics.deadLetters.statusUpdates,
          configEntries: [{ name: 'retention.ms', value: '86400000' }],
        },
      ],
    });
    await waitForRetention(topics.deadLetters.statusUpdates, '86400000');
    const report = await applyRetention({
      clickhouse,
      database: config.CLICKHOUSE_DATABASE,
      admin,
      topics,
      now: NOW,
      dryRun: true,
    });
    expect(report.dropped).toEqual(
      expect.arrayContaining([
        { table: RAW_TABLES['status-update'], partition: '201803' },
        { table: RAW_TABLES.verification, partition: '202411' },
      ]),
    );
    expect(await months(RAW_TABLES['status-update'])).toEqual(['201803', '202001', '202611']);
    expect(report.topics.find((t) => t.topic === topics.deadLetters.statusUpdates)?.changed).toBe(true);
    expect(await deadLetterRetention(topics.deadLetters.statusUpdates)).toBe('86400000');
  });

  it('drops the months past each table’s retention and sets the dead-letter topics’ retention', async () => {
    const topics = topicNames(config.TOPIC_PREFIX);
    const report = await applyRetention({
      clickhouse,
      database: config.CLICKHOUSE_DATABASE,
      admin,
      topics,
      now: NOW,
    });
    // Seven years (84 months, this one included) of status events: January 2020 onwards stays.
    expect(await months(RAW_TABLES['status-update'])).toEqual(['202001', '202611']);
    // Two years (24 months) of verification records: January 2025 onwards.
    expect(await months(RAW_TABLES.verification)).toEqual(['202501']);
    expect(report.dropped).toHaveLength(2);
    expect(report.topics.find((t) => t.topic === topics.deadLetters.statusUpdates)?.changed).toBe(true);
    // Read back once the change shows, so the second run sees it too.
    await waitForRetention(topics.deadLetters.statusUpdates, String(DEAD_LETTER_RETENTION_MS));
    const again = await applyRetention({
      clickhouse,
      database: config.CLICKHOUSE_DATABASE,
      admin,
      topics,
      now: NOW,
    });
    expect(again.dropped).toEqual([]);
    expect(again.topics.every((t) => !t.changed)).toBe(true);
  });
});
