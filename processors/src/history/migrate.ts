import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { quoteIdentifier } from '@hub/infra';
import { parseViewDefinition } from './rebuild-rollups.ts';

/** processors/migrations: numbered SQL files, applied in order. */
export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

/** The only placeholder a migration may use; the runner puts the quoted database name there. */
export const DATABASE_PLACEHOLDER = '{{database}}';

export const MIGRATIONS_TABLE = 'schema_migrations';

export interface Migration {
  version: number;
  /** File name, e.g. `001_raw_events.sql`. */
  name: string;
  /** sha256 of the file: an applied migration must never change. */
  checksum: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

/** Reads and orders the migration files; a badly named or duplicated file is an error, not skipped. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_NAME.exec(file);
    if (!match) {
      throw new Error(
        `migration file '${file}' must be named NNN_lowercase_words.sql (e.g. 001_raw_events.sql)`,
      );
    }
    const sql = readFileSync(join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: file,
      checksum: createHash('sha256').update(sql).digest('hex'),
      sql,
    });
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(
        `migrations '${migrations[i - 1]!.name}' and '${migrations[i]!.name}' share version ${migrations[i]!.version}`,
      );
    }
  }
  if (migrations.length === 0) throw new Error(`no migration files in ${dir}`);
  return migrations;
}

/**
 * The statements of a migration for `database`: comment lines dropped, split at a `;` that ends a
 * line (the HTTP interface runs one statement per request). A `;` anywhere else, or a placeholder
 * other than {{database}}, is refused so a file cannot be half-applied by a split in the wrong place.
 */
export function renderStatements(migration: Pick<Migration, 'name' | 'sql'>, database: string): string[] {
  const quoted = quoteIdentifier(database);
  const lines = migration.sql.split('\n').filter((line) => !line.trimStart().startsWith('--'));
  const statements: string[] = [];
  let current: string[] = [];
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trimEnd();
    const semicolon = trimmed.indexOf(';');
    if (semicolon !== -1 && semicolon !== trimmed.length - 1) {
      throw new Error(`${migration.name}: ';' must end its line (statement line ${index + 1}: ${trimmed})`);
    }
    current.push(semicolon === -1 ? trimmed : trimmed.slice(0, -1));
    if (semicolon !== -1) {
      statements.push(current.join('\n').trim());
      current = [];
    }
  }
  if (current.join('').trim() !== '') {
    throw new Error(`${migration.name}: the last statement does not end with ';'`);
  }
  return statements
    .filter((s) => s.length > 0)
    .map((statement) => {
      const unknown = /\{\{(?!database\}\})[^}]*\}\}/.exec(statement);
      if (unknown) throw new Error(`${migration.name}: unknown placeholder ${unknown[0]}`);
      return statement.split(DATABASE_PLACEHOLDER).join(quoted);
    });
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

interface AppliedRow {
  version: number;
  checksums: string[];
}

/**
 * Applies the migrations `database` has not recorded yet, in order, and records each. Safe to run
 * from two processes at once: every statement is `CREATE … IF NOT EXISTS`, so the slower process
 * re-runs them harmlessly, and both records of a version carry the same checksum (the table is a
 * ReplacingMergeTree keyed by version, and reads group by version). A migration that creates a
 * materialised view also fills the view's target with its source's existing rows; a second run
 * fills it twice, which every derived table tolerates (rollups count uniq states; token indexes
 * are read one row per event id). The database must exist.
 */
export async function migrate(
  client: ClickHouseClient,
  database: string,
  migrations: readonly Migration[] = loadMigrations(),
): Promise<MigrateResult> {
  const table = `${quoteIdentifier(database)}.${MIGRATIONS_TABLE}`;
  await runStatement(
    client,
    `CREATE TABLE IF NOT EXISTS ${table}
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY version`,
  );
  const result = await client.query({
    query: `SELECT version, groupUniqArray(checksum) AS checksums FROM ${table} GROUP BY version ORDER BY version`,
    format: 'JSONEachRow',
  });
  const applied = new Map((await result.json<AppliedRow>()).map((r) => [Number(r.version), r.checksums]));
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const [version, checksums] of applied) {
    const migration = known.get(version);
    if (!migration) {
      throw new Error(
        `database ${database} has migration ${version} applied, which this build does not have: deploy the newer build`,
      );
    }
    if (checksums.some((c) => c !== migration.checksum)) {
      throw new Error(
        `migration ${migration.name} was changed after it was applied to ${database}: add a new numbered file instead`,
      );
    }
  }

  const outcome: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    if (applied.has(migration.version)) {
      outcome.alreadyApplied.push(migration.name);
      continue;
    }
    const statements = renderStatements(migration, database);
    for (const statement of statements) await runStatement(client, statement);
    // A view only sees rows inserted after it exists: its target gets the rows already there.
    for (const statement of statements) {
      if (!statement.startsWith('CREATE MATERIALIZED VIEW')) continue;
      const view = parseViewDefinition(statement);
      await runStatement(client, `INSERT INTO ${view.target} ${view.select}`);
    }
    await client.insert({
      table,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    });
    outcome.applied.push(migration.name);
  }
  return outcome;
}

/** ClickHouse's TABLE_ALREADY_EXISTS: two processes passed the IF NOT EXISTS check at the same time. */
const TABLE_ALREADY_EXISTS = '57';

async function runStatement(client: ClickHouseClient, statement: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.command({ query: statement });
      return;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // Re-running the IF NOT EXISTS statement finds the other process's object and succeeds.
      if (code === TABLE_ALREADY_EXISTS && attempt < 3) {
        await new Promise((r) => setTimeout(r, 100 * attempt));
        continue;
      }
      throw err;
    }
  }
}
