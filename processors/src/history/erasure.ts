import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier } from '@hub/infra';
import type { DataSubjectEvent, ErasureCutoff } from '@hub/schemas';
import { sqlInteger, sqlString } from '@hub/state/history/queries';
import {
  CUSTOMER_VERIFICATIONS_TABLE,
  type HistoryKind,
  LEGACY_VERIFICATIONS_TABLE,
  RAW_TABLES,
  TOKEN_INDEX_TABLES,
} from '@hub/state/history/tables';

/**
 * What a subscriber erasure removes from ClickHouse, per event family: the raw table last, after
 * the tables fed from it, so "raw rows left" means "this erasure is not finished" (see below).
 * Status events (the operator's facts about the line, which fraud checks rely on), delink
 * workflow records, audit records (a legal obligation) and the rollups (counts with no identity
 * in them) are kept.
 */
export const ERASED_TABLES: Partial<Record<HistoryKind, readonly string[]>> = {
  'nin-linkage': [TOKEN_INDEX_TABLES.nin, RAW_TABLES['nin-linkage']],
  'bvn-linkage': [TOKEN_INDEX_TABLES.bvn, TOKEN_INDEX_TABLES.nuban, RAW_TABLES['bvn-linkage']],
  'state-change': [RAW_TABLES['state-change']],
  verification: [CUSTOMER_VERIFICATIONS_TABLE, LEGACY_VERIFICATIONS_TABLE, RAW_TABLES.verification],
};

/** `msisdn = … AND (rows of the erased topic partitions below their cutoffs)`. */
export function erasedRowsCondition(msisdn: string, cutoffs: readonly ErasureCutoff[]): string {
  const below = cutoffs.map(
    (c) =>
      `(kafka_topic = ${sqlString(c.topic)} AND kafka_partition = ${sqlInteger(c.partition)} AND kafka_offset < ${sqlInteger(c.offset)})`,
  );
  return `msisdn = ${sqlString(msisdn)} AND (${below.join(' OR ')})`;
}

export interface ClickHouseErasureOptions {
  clickhouse: ClickHouseClient;
  database: string;
  /** Topic name → event family, as the sink records them. */
  kinds: ReadonlyMap<string, HistoryKind>;
  /** How long to wait for ClickHouse to finish the delete mutations. */
  mutationTimeoutMs?: number;
}

/**
 * Applies a subscriber erasure to ClickHouse with `ALTER TABLE … DELETE` (a mutation, on 18.16
 * as on current releases; it rewrites the parts that hold matching rows in the background) and
 * waits until the mutations are done. Cheap to repeat: when the raw tables hold none of the erased
 * rows it submits nothing, so the catch-up at every sink start costs one primary-key read per
 * erased number and table.
 */
export function clickhouseErasure(o: ClickHouseErasureOptions): (event: DataSubjectEvent) => Promise<void> {
  const db = quoteIdentifier(o.database);
  return async (event) => {
    const byKind = new Map<HistoryKind, ErasureCutoff[]>();
    for (const c of event.cutoffs) {
      const kind = o.kinds.get(c.topic);
      if (!kind || !ERASED_TABLES[kind]) continue;
      byKind.set(kind, [...(byKind.get(kind) ?? []), c]);
    }
    const mutated = new Set<string>();
    for (const [kind, cutoffs] of byKind) {
      const tables = ERASED_TABLES[kind]!;
      const where = erasedRowsCondition(event.subject, cutoffs);
      const raw = tables[tables.length - 1]!;
      const left = await o.clickhouse.query({
        query: `SELECT count() AS n FROM ${db}.${raw} WHERE ${where}`,
        format: 'JSONEachRow',
      });
      const [row] = await left.json<{ n: string | number }>();
      if (Number(row?.n ?? 0) === 0) continue;
      for (const table of tables) {
        await o.clickhouse.command({ query: `ALTER TABLE ${db}.${table} DELETE WHERE ${where}` });
        mutated.add(table);
      }
    }
    if (mutated.size > 0) await waitForMutations(o.clickhouse, o.database, [...mutated], o.mutationTimeoutMs);
  };
}

/** Polls system.mutations until no mutation of the tables is pending (18.16 has no mutations_sync). */
export async function waitForMutations(
  clickhouse: ClickHouseClient,
  database: string,
  tables: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await clickhouse.query({
      query: `SELECT count() AS n FROM system.mutations WHERE database = ${sqlString(database)} AND table IN (${tables.map(sqlString).join(', ')}) AND is_done = 0`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string | number }>();
    if (Number(row?.n ?? 0) === 0) return;
    if (Date.now() > deadline)
      throw new Error(`delete mutations on ${tables.join(', ')} not done after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
