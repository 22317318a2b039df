import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RAW_TABLES, SINK_WATERMARKS_TABLE, watermarkViewOf } from '@hub/state/history/tables';
import { describe, expect, it } from 'vitest';
import { loadMigrations, renderStatements } from './migrate.ts';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

describe('loadMigrations', () => {
  it('orders the shipped migrations by number and gives each a checksum', () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual(
      [...migrations.map((m) => m.version)].sort((a, b) => a - b),
    );
    expect(migrations[0]?.name).toBe('001_raw_events.sql');
    for (const m of migrations) expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a badly named file and a duplicated version', () => {
    expect(() => loadMigrations(dirWith({ '1_x.sql': 'SELECT 1;' }))).toThrow(/must be named NNN_/);
    expect(() => loadMigrations(dirWith({ '001_a.sql': 'SELECT 1;', '001_b.sql': 'SELECT 2;' }))).toThrow(
      /share version 1/,
    );
  });
});

describe('renderStatements', () => {
  it('splits at line-ending semicolons, drops comments and quotes the database', () => {
    const sql =
      '-- a comment; with a semicolon\nCREATE TABLE {{database}}.t\n(x UInt8)\nENGINE = Log;\n\nSELECT 1;\n';
    expect(renderStatements({ name: 'x.sql', sql }, 'hub_test_1')).toEqual([
      'CREATE TABLE `hub_test_1`.t\n(x UInt8)\nENGINE = Log',
      'SELECT 1',
    ]);
  });

  it('refuses a semicolon inside a line, an unknown placeholder, an unterminated statement and a bad database', () => {
    expect(() => renderStatements({ name: 'a.sql', sql: 'SELECT 1; SELECT 2;\n' }, 'hub')).toThrow(
      /must end its line/,
    );
    expect(() => renderStatements({ name: 'b.sql', sql: 'SELECT {{table}};\n' }, 'hub')).toThrow(
      /unknown placeholder \{\{table\}\}/,
    );
    expect(() => renderStatements({ name: 'c.sql', sql: 'SELECT 1\n' }, 'hub')).toThrow(
      /does not end with ';'/,
    );
    expect(() => renderStatements({ name: 'd.sql', sql: 'SELECT 1;\n' }, 'hub`; DROP')).toThrow(/identifier/);
  });

  it('renders every shipped migration into IF NOT EXISTS statements only, so concurrent runs are safe', () => {
    for (const m of loadMigrations()) {
      for (const statement of renderStatements(m, 'hub')) {
        expect(statement).toMatch(/^CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS `hub`\./);
        expect(statement).not.toMatch(/DateTime64|LowCardinality|\bTTL\b|toStartOfInterval|\{\w+:\w+\}/);
      }
    }
  });
});

describe('the project migrations', () => {
  it('give every raw table the sink writes a watermark view into sink_watermarks_v1', () => {
    const sql = loadMigrations()
      .map((m) => m.sql)
      .join('\n');
    for (const raw of Object.values(RAW_TABLES)) {
      const view = new RegExp(
        `CREATE MATERIALIZED VIEW IF NOT EXISTS \\{\\{database\\}\\}\\.${watermarkViewOf(raw)}\\s+TO \\{\\{database\\}\\}\\.${SINK_WATERMARKS_TABLE}[\\s\\S]*?FROM \\{\\{database\\}\\}\\.${raw}\\b`,
      );
      expect(sql, raw).toMatch(view);
    }
  });
});
