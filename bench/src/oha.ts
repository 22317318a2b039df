import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, repoRoot } from '@hub/infra';
import { run } from '../../infra/local/process.ts';
import { ensureTool } from '../../infra/local/tools.ts';

import type { LoadResult } from './load.ts';

export interface OhaOptions {
  url: string;
  /** Requests a second, on schedule whatever the server does (open loop). */
  rate: number;
  connections: number;
  durationMs: number;
  warmupMs?: number;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  /** Request bodies, sent in turn (one JSON document each, no newline inside). */
  bodies: string[];
}

/** What `oha --output-format json` prints, the parts read here (seconds). */
interface OhaJson {
  summary: { total: number; requestsPerSec: number; slowest: number | null };
  latencyPercentiles: Record<string, number | null>;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number>;
}

let ohaPath: Promise<string> | undefined;

/**
 * The oha executable, built from crates.io with cargo the first time a bench needs it, into the
 * project's data folder (a bench's own data folder goes at its end; the build takes minutes).
 */
export function ohaBinary(config: Config): Promise<string> {
  const dataDir = process.env.HUB_DATA_DIR ?? join(repoRoot, '.data');
  ohaPath ??= ensureTool({ config, dataDir, log: (m) => console.error(`bench: ${m}`) }, 'oha');
  return ohaPath;
}

/** Reads oha's JSON summary into the bench's load result (milliseconds; non-2xx by status). */
export function ohaResult(json: OhaJson): LoadResult {
  const ms = (s: number | null | undefined) => Math.round((s ?? 0) * 1e6) / 1000;
  const statuses: Record<string, number> = {};
  let requests = 0;
  for (const [status, n] of Object.entries(json.statusCodeDistribution)) {
    requests += n;
    if (Number(status) >= 300) statuses[status] = n;
  }
  const errors = Object.values(json.errorDistribution).reduce((a, b) => a + b, 0);
  const p = json.latencyPercentiles;
  return {
    requests,
    errors,
    statuses,
    seconds: Math.round(json.summary.total * 1000) / 1000,
    rps: Math.round(json.summary.requestsPerSec),
    p50: ms(p.p50),
    p90: ms(p.p90),
    p99: ms(p.p99),
    max: ms(json.summary.slowest),
  };
}

/**
 * An open-loop run of oha (a Rust program, so it does not compete as a Node process) at a fixed
 * rate, with its latency correction for coordinated omission: each request's latency counts from
 * when it was due, so a stalled server cannot hide the queue behind it. A warm-up run first.
 */
export async function runOha(config: Config, o: OhaOptions): Promise<LoadResult> {
  const binary = await ohaBinary(config);
  const dir = mkdtempSync(join(tmpdir(), 'hub-bench-oha-'));
  try {
    const bodies = join(dir, 'bodies.txt');
    writeFileSync(bodies, `${o.bodies.join('\n')}\n`);
    const headers = Object.entries(o.headers)
      .filter(([name]) => name.toLowerCase() !== 'content-type')
      .flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    const contentType = Object.entries(o.headers).find(([n]) => n.toLowerCase() === 'content-type')?.[1];
    const once = async (ms: number) => {
      const result = await run(binary, [
        '--no-tui',
        '--output-format',
        'json',
        '--latency-correction',
        // Requests in flight at the deadline are answered, not counted as errors.
        '--wait-ongoing-requests-after-deadline',
        '-q',
        String(o.rate),
        '-c',
        String(o.connections),
        '-z',
        `${Math.max(1, Math.round(ms / 1000))}s`,
        '-t',
        '10s',
        '-m',
        o.method,
        ...(contentType ? ['-T', contentType] : []),
        ...headers,
        '-Z',
        bodies,
        o.url,
      ]);
      if (result.code !== 0)
        throw new Error(`oha failed (exit ${result.code}):\n${result.output.slice(-2000)}`);
      return ohaResult(JSON.parse(result.stdout) as OhaJson);
    };
    if (o.warmupMs) await once(o.warmupMs);
    return await once(o.durationMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
