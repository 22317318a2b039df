import { Pool } from 'undici';

export interface LoadRequest {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** Non-2xx answers, by status. */
  statuses: Record<string, number>;
  seconds: number;
  rps: number;
  /** Latency percentiles in milliseconds (microsecond resolution). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  durationMs: number;
  /** Requests to send, cycled through in order. */
  requests: LoadRequest[];
  /**
   * Open-loop rate (requests/s). Latency is then measured from each request's scheduled start, so a
   * stalled server cannot hide its queueing (no coordinated omission). Omitted: closed loop, as
   * fast as the connections allow (throughput).
   */
  rate?: number;
  warmupMs?: number;
}

/**
 * A small HTTP load generator over undici keep-alive connections. The same generator drives the
 * system under test and the ceiling server in one run, so their ratio is meaningful on a noisy host.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(o.url, { connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    if (o.warmupMs) await phase(pool, { ...o, durationMs: o.warmupMs }, false);
    return await phase(pool, o, true);
  } finally {
    await pool.close();
  }
}

async function phase(pool: Pool, o: LoadOptions, measure: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + o.durationMs;

  const send = async (scheduledAt: number) => {
    const r = o.requests[next++ % o.requests.length]!;
    try {
      const res = await pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
      await res.body.dump();
      if (res.statusCode >= 300) statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    } catch {
      errors++;
    }
    if (measure) latencies.push(performance.now() - scheduledAt);
  };

  if (o.rate === undefined) {
    await Promise.all(
      Array.from({ length: o.connections }, async () => {
        while (performance.now() < deadline) await send(performance.now());
      }),
    );
  } else {
    const interval = 1000 / o.rate;
    const inflight = new Set<Promise<void>>();
    let scheduled = started;
    while (scheduled < deadline) {
      const now = performance.now();
      while (scheduled <= now && scheduled < deadline) {
        const p = send(scheduled).finally(() => inflight.delete(p));
        inflight.add(p);
        scheduled += interval;
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, Math.min(5, scheduled - performance.now()))),
      );
    }
    await Promise.all(inflight);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    requests: latencies.length,
    errors,
    statuses,
    seconds: round(seconds),
    rps: Math.round(latencies.length / seconds),
    p50: pct(0.5),
    p90: pct(0.9),
    p99: pct(0.99),
    max: round(latencies.at(-1) ?? 0),
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
