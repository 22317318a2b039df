import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@hub/infra';
import { run } from '../../infra/local/process.ts';
import { ensureTool } from '../../infra/local/tools.ts';
import { cpuWindow, perUnit } from './cpu.ts';
import type { LoadRequest } from './load.ts';

export interface WrkOptions {
  url: string;
  connections: number;
  /** wrk threads; one leaves the other core of a 2-core machine to the server under test. */
  threads?: number;
  durationMs: number;
  warmupMs?: number;
  /** Requests to send, cycled through in order by every connection. */
  requests: LoadRequest[];
  /** Processes whose CPU time over the measured run is divided by the requests answered. */
  processes: Record<string, number>;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Socket errors (connect, read, write, timeout) and answers with a status of 400 or more. */
  errors: number;
  statusErrors: number;
  /** Latency percentiles in milliseconds, as wrk measures them (closed loop). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** CPU time of each process over the measured run, microseconds. */
  cpuMicros: Record<string, number>;
  /** CPU microseconds per answered request, per process. */
  cpuPerRequest: Record<string, number>;
}

const MAX_SCRIPT_REQUESTS = 4000;

/** A Lua string literal holding the UTF-8 bytes of `s` exactly (bytes outside printable ASCII as \ddd). */
export function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s)) {
    const printable = b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c;
    out += printable ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/**
 * The wrk script: every request formatted once at start-up, then cycled through per connection's
 * thread; `done` prints the summary as one JSON line. No `response` callback, so wrk does not parse
 * answers beyond their status line and length.
 */
export function wrkScript(host: string, requests: LoadRequest[]): string {
  // Lua caps a function's constants (2^16 in LuaJIT): every request is a few, so a long list is sampled.
  const step = Math.max(1, Math.ceil(requests.length / MAX_SCRIPT_REQUESTS));
  const formatted = requests
    .filter((_, i) => i % step === 0)
    .map((r) => {
      const headers = { Host: host, ...r.headers };
      const table = Object.entries(headers)
        .map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`)
        .join(', ');
      return `  t[#t + 1] = wrk.format(${luaString(r.method)}, ${luaString(r.path)}, { ${table} }, ${
        r.body === undefined ? 'nil' : luaString(r.body)
      })`;
    });
  return `local t = {}
local i = 0
init = function(args)
${formatted.join('\n')}
  i = math.random(#t) - 1
end
request = function()
  i = i % #t + 1
  return t[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

let wrkPath: Promise<string> | undefined;

/** wrk's executable, installed from Debian through the local stack's apt helper on first use. */
export function wrkBinary(config: Config): Promise<string> {
  wrkPath ??= ensureTool(
    { config, dataDir: config.HUB_DATA_DIR, log: (m) => console.error(`bench: ${m}`) },
    'wrk',
  );
  return wrkPath;
}

/**
 * A closed-loop run of wrk against `url`, with each listed process's CPU time read from /proc
 * before and after the measured run (a warm-up run first, not counted).
 */
export async function runWrk(config: Config, o: WrkOptions): Promise<WrkResult> {
  const binary = await wrkBinary(config);
  const dir = mkdtempSync(join(tmpdir(), 'hub-bench-wrk-'));
  try {
    const script = join(dir, 'requests.lua');
    writeFileSync(script, wrkScript(new URL(o.url).host, o.requests));
    const once = async (ms: number) => {
      const result = await run(binary, [
        `-t${o.threads ?? 1}`,
        `-c${o.connections}`,
        `-d${Math.max(1, Math.round(ms / 1000))}s`,
        '--timeout',
        '10s',
        '-s',
        script,
        o.url,
      ]);
      const line = result.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (result.code !== 0 || !line) throw new Error(`wrk failed (exit ${result.code}):\n${result.output}`);
      return JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    };
    if (o.warmupMs) await once(o.warmupMs);
    const window = cpuWindow(o.processes);
    const s = await once(o.durationMs);
    const cpu = window.stop();
    const seconds = s.durationUs! / 1e6;
    const ms = (us: number | undefined) => Math.round(us ?? 0) / 1000;
    return {
      requests: s.requests!,
      seconds,
      rps: Math.round(s.requests! / seconds),
      errors: s.connect! + s.read! + s.write! + s.timeout!,
      statusErrors: s.status!,
      p50: ms(s.p50),
      p90: ms(s.p90),
      p99: ms(s.p99),
      max: ms(s.max),
      cpuMicros: cpu,
      cpuPerRequest: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, perUnit(v, s.requests!)])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
