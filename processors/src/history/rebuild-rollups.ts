import { pathToFileURL } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouse, loadConfig, quoteIdentifier } from '@hub/infra';
import { DERIVED_TABLES } from '@hub/state/history/tables';

export interface RollupDefinition {
  view: string;
  /** Target table, as the view names it (database-qualified). */
  target: string;
  select: string;
}

const MV_DEFINITION =
  /^CREATE MATERIALIZED VIEW\s+(?:IF NOT EXISTS\s+)?(\S+)\s+TO\s+(\S+)[\s\S]*?\bAS\s+(SELECT\b[\s\S]*)$/;

/**
 * A materialised view's target and SELECT, read from its live definition: the view is the one
 * definition of a rollup, so a rebuild cannot drift from what new inserts go through.
 */
export function parseViewDefinition(createQuery: string): RollupDefinition {
  const match = MV_DEFINITION.exec(createQuery.trim());
  if (!match) {
    throw new Error(
      `not a 'CREATE MATERIALIZED VIEW … TO … AS SELECT' definition: ${createQuery.slice(0, 120)}`,
    );
  }
  return { view: match[1]!, target: match[2]!, select: match[3]! };
}

const unquote = (name: string) => name.replace(/`/g, '');

/** The rollup views of `database` whose target is one of `tables` (default: every rollup). */
export async function rollupDefinitions(
  client: ClickHouseClient,
  database: string,
  tables: readonly string[] = DERIVED_TABLES,
): Promise<RollupDefinition[]> {
  const result = await client.query({
    query: `SELECT name, create_table_query FROM system.tables
WHERE database = '${unquote(quoteIdentifier(database))}' AND engine = 'MaterializedView' ORDER BY name`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ name: string; create_table_query: string }>();
  const definitions = rows
    .map((r) => parseViewDefinition(r.create_table_query))
    .filter((d) => tables.includes(unquote(d.target).split('.').pop() ?? ''));
  const found = new Set(definitions.map((d) => unquote(d.target).split('.').pop()));
  const missing = tables.filter((t) => !found.has(t));
  if (missing.length > 0) {
    throw new Error(
      `no materialised view feeds ${missing.join(', ')} in ${database}: run the migrations first`,
    );
  }
  return definitions;
}

/**
 * Refills rollups from the raw tables: truncate, then INSERT the view's SELECT over every raw row.
 * Safe while the sink runs: rollup counts are uniq states, so a row that reaches a rollup both
 * through its view and through the rebuild still counts once.
 */
export async function rebuildRollups(
  client: ClickHouseClient,
  database: string,
  tables?: readonly string[],
  log: (message: string) => void = () => {},
): Promise<string[]> {
  const definitions = await rollupDefinitions(client, database, tables);
  for (const d of definitions) {
    const started = Date.now();
    await client.command({ query: `TRUNCATE TABLE ${d.target}` });
    await client.command({ query: `INSERT INTO ${d.target} ${d.select}` });
    log(`${d.target}: rebuilt from ${d.view}'s SELECT in ${Date.now() - started} ms`);
  }
  return definitions.map((d) => d.target);
}

const USAGE = `Usage: tsx processors/src/history/rebuild-rollups.ts [rollup_table ...]

Rebuilds the ClickHouse rollup tables of CLICKHOUSE_DATABASE from the raw event tables
(default: every rollup and token index). Tables: ${DERIVED_TABLES.join(', ')}`;

async function cli(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const known = new Set<string>(DERIVED_TABLES);
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length > 0) {
    process.stderr.write(`unknown rollup table(s): ${unknown.join(', ')}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const config = loadConfig();
  const client = createClickHouse(config, { requestTimeoutMs: 600_000 });
  try {
    await rebuildRollups(client, config.CLICKHOUSE_DATABASE, args.length > 0 ? args : undefined, (m) =>
      process.stdout.write(`${m}\n`),
    );
  } finally {
    await client.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
