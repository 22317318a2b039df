export interface Row {
  benchmark: string;
  figure: string;
  detail?: string;
  /** Measured / ceiling (or target) where the issue asks for a ratio. */
  ratio?: number;
  target?: string;
  met?: boolean;
}

/** A plain-text table, one row per measurement, for the terminal and the README. */
export function formatTable(rows: Row[]): string {
  const header = ['benchmark', 'figure', 'ratio', 'target', 'met', 'detail'];
  const cells = rows.map((r) => [
    r.benchmark,
    r.figure,
    r.ratio === undefined ? '' : r.ratio.toFixed(2),
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
    r.detail ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
