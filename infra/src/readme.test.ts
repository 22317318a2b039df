import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown, repoRoot } from './config.ts';

/** Table cells without padding or the separator row, so the formatter's alignment does not matter. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((row) =>
      row
        .trim()
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    )
    .filter((row) => !row.every((c) => /^-+$/.test(c)));
}

describe.each(['README.md', 'infra/README.md'])('%s', (file) => {
  it('lists the environment variables exactly as configVariables defines them', () => {
    const readme = readFileSync(join(repoRoot, file), 'utf8');
    const table =
      /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1] ?? '';
    expect(cells(table)).toEqual(cells(configTableMarkdown()));
  });
});
