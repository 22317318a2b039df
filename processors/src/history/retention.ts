import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier, type TopicNames } from '@hub/infra';
import { sqlString } from '@hub/state/history/queries';
import {
  CUSTOMER_VERIFICATIONS_TABLE,
  LEGACY_VERIFICATIONS_TABLE,
  RAW_TABLES,
  ROLLUP_TABLES,
  TOKEN_INDEX_TABLES,
} from '@hub/state/history/tables';
import { type Admin, ConfigResourceTypes } from 'kafkajs';

/**
 * How long each store keeps data (the privacy policy's retention section says the same). Every
 * ClickHouse table here is partitioned by month (toYYYYMM), so retention is `ALTER TABLE … DROP
 * PARTITION` of whole months, which ClickHouse 18.16 and current releases both do (no TTL).
 * Kafka's fact topics are the system of record and are kept (erasures are events on them that
 * every projection applies); dead-letter topics keep 30 days.
 */
export const TABLE_RETENTION_MONTHS: Readonly<Record<string, number>> = {
  [RAW_TABLES['status-update']]: 84,
  [RAW_TABLES['nin-linkage']]: 84,
  [RAW_TABLES['bvn-linkage']]: 84,
  [RAW_TABLES.delink]: 84,
  [RAW_TABLES['recycled-sim']]: 84,
  [RAW_TABLES['state-change']]: 84,
  /** Usage records: two years, enough for billing disputes and fraud look-backs. */
  [RAW_TABLES.verification]: 24,
  [LEGACY_VERIFICATIONS_TABLE]: 24,
  [CUSTOMER_VERIFICATIONS_TABLE]: 24,
  /** The audit trail: seven years (legal obligation). */
  [RAW_TABLES.audit]: 84,
  [TOKEN_INDEX_TABLES.nin]: 84,
  [TOKEN_INDEX_TABLES.bvn]: 84,
  [TOKEN_INDEX_TABLES.nuban]: 84,
  /** Rollups hold counts only: ten years of trends. */
  ...Object.fromEntries(Object.values(ROLLUP_TABLES).map((t) => [t, 120])),
};

export const DEAD_LETTER_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** The first month (YYYYMM) still kept when `months` are retained, counting the current month. */
export function firstKeptMonth(now: number, months: number): number {
  const d = new Date(now);
  const index = d.getUTCFullYear() * 12 + d.getUTCMonth() - (months - 1);
  return Math.floor(index / 12) * 100 + (index % 12) + 1;
}

export interface RetentionReport {
  dropped: { table: string; partition: string }[];
  kept: { table: string; partitions: number }[];
  topics: { topic: string; retentionMs: string; changed: boolean }[];
}

/**
 * Drops every monthly partition older than its table's retention, and sets the dead-letter
 * topics' retention. `dryRun` reports what would go and changes nothing. Tables that do not exist
 * (a database migrated to an older version) are skipped.
 */
export async function applyRetention(o: {
  clickhouse: ClickHouseClient;
  database: string;
  admin?: Admin;
  topics?: TopicNames;
  now?: number;
  dryRun?: boolean;
  retention?: Readonly<Record<string, number>>;
}): Promise<RetentionReport> {
  const now = o.now ?? Date.now();
  const db = quoteIdentifier(o.database);
  const report: RetentionReport = { dropped: [], kept: [], topics: [] };
  const retention = o.retention ?? TABLE_RETENTION_MONTHS;
  const result = await o.clickhouse.query({
    query: `SELECT table, partition FROM system.parts WHERE database = ${sqlString(o.database)} AND active GROUP BY table, partition ORDER BY table, partition`,
    format: 'JSONEachRow',
  });
  const parts = await result.json<{ table: string; partition: string }>();
  for (const [table, months] of Object.entries(retention)) {
    const first = firstKeptMonth(now, months);
    const partitions = parts.filter((p) => p.table === table).map((p) => p.partition);
    let kept = 0;
    for (const partition of partitions) {
      // toYYYYMM partitions are named by the month, e.g. 201901; anything else is not ours to drop.
      if (!/^\d{6}$/.test(partition) || Number(partition) >= first) {
        kept++;
        continue;
      }
      if (!o.dryRun)
        await o.clickhouse.command({ query: `ALTER TABLE ${db}.${table} DROP PARTITION ${partition}` });
      report.dropped.push({ table, partition });
    }
    report.kept.push({ table, partitions: kept });
  }
  if (o.admin && o.topics) {
    const names = Object.values(o.topics.deadLetters);
    const existing = new Set(await o.admin.listTopics());
    const present = names.filter((t) => existing.has(t));
    if (present.length > 0) {
      const described = await o.admin.describeConfigs({
        includeSynonyms: false,
        resources: present.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['retention.ms'],
        })),
      });
      const want = String(DEAD_LETTER_RETENTION_MS);
      const stale: string[] = [];
      for (const r of described.resources) {
        const value = r.configEntries.find((e) => e.configName === 'retention.ms')?.configValue ?? '';
        const changed = value !== want;
        if (changed) stale.push(r.resourceName);
        report.topics.push({
          topic: r.resourceName,
          retentionMs: changed && o.dryRun ? value : want,
          changed,
        });
      }
      // AlterConfigs replaces a topic's whole config; a dead-letter topic has only this one entry.
      if (stale.length > 0 && !o.dryRun) {
        await o.admin.alterConfigs({
          validateOnly: false,
          resources: stale.map((name) => ({
            type: ConfigResourceTypes.TOPIC,
            name,
            configEntries: [{ name: 'retention.ms', value: want }],
          })),
        });
      }
    }
  }
  return report;
}
