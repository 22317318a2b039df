/** A request a load generator sends, and what a latency run of one gives (oha.ts, wrk.ts). */
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
  /** Latency percentiles in milliseconds (microsecond resolution), from each request's due time. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
