import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The API process's one metrics registry. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const requestDuration = new Histogram({
  name: 'hub_http_request_seconds',
  help: 'HTTP request latency by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const redisRoundTrip = new Histogram({
  name: 'hub_redis_round_trip_seconds',
  help: 'Time of one state read (one Redis round trip, pipelined for bulk)',
  labelNames: ['numbers'] as const,
  buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05],
  registers: [registry],
});

export const verificationsDropped = new Counter({
  name: 'hub_verification_records_dropped_total',
  help: 'Verification usage records dropped: backlog-full (Kafka unreachable for long), refused-by-broker (invalid record), no-worker (recorder restarting)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const auditDropped = new Counter({
  name: 'hub_audit_records_dropped_total',
  help: 'Audit entries dropped: backlog-full (Kafka unreachable for long), refused-by-broker (invalid record)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** One request's latency, under its method, route pattern and status code. */
export function observeRequest(method: string, route: string, status: number, seconds: number): void {
  requestDuration.observe({ method, route, status: String(status) }, seconds);
}

const ONE = { numbers: 'one' } as const;
const MANY = { numbers: 'many' } as const;

/** One state read's round trip (performance.now() at its start), labelled one number or many. */
export function observeStateRead(numbers: number, startedMs: number): void {
  redisRoundTrip.observe(numbers > 1 ? MANY : ONE, (performance.now() - startedMs) / 1000);
}
