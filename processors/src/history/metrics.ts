import { Counter, Histogram } from 'prom-client';
import { registry } from '../metrics.ts';

/** History-sink metrics, in the processors' one registry (processors/src/metrics.ts). */
export const insertRows = new Histogram({
  name: 'hub_history_insert_rows',
  help: 'Rows per ClickHouse insert made by the history sink',
  labelNames: ['table'] as const,
  buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000],
  registers: [registry],
});

export const insertDuration = new Histogram({
  name: 'hub_history_insert_seconds',
  help: 'Duration of successful ClickHouse inserts made by the history sink',
  labelNames: ['table'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const insertRetries = new Counter({
  name: 'hub_history_insert_retries_total',
  help: 'Failed ClickHouse inserts (or resume-point reads) that the history sink backed off and retried',
  labelNames: ['table'] as const,
  registers: [registry],
});

export const rowsAlreadyHeld = new Counter({
  name: 'hub_history_rows_already_held_total',
  help: 'Redelivered records skipped because ClickHouse already holds their offset',
  labelNames: ['table'] as const,
  registers: [registry],
});

export const resumeDuration = new Histogram({
  name: 'hub_history_resume_seconds',
  help: 'Time the history sink takes on a partition assignment to read its resume points and seek',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
