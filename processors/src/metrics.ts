import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The one metrics registry of a processors process; every processor registers here. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const batchSize = new Histogram({
  name: 'hub_consumer_batch_records',
  help: 'Records per processed partition chunk',
  labelNames: ['consumer', 'topic'] as const,
  buckets: [1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000],
  registers: [registry],
});

export const batchDuration = new Histogram({
  name: 'hub_consumer_batch_seconds',
  help: 'Time to decode, handle, dead-letter and commit one partition chunk',
  labelNames: ['consumer', 'topic'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const recordsConsumed = new Counter({
  name: 'hub_consumer_records_total',
  help: 'Records read from Kafka, by outcome (ok, dead_letter, drop)',
  labelNames: ['consumer', 'topic', 'outcome'] as const,
  registers: [registry],
});

export const deadLetters = new Counter({
  name: 'hub_dead_letters_total',
  help: 'Records published to a dead-letter topic, by source topic and failing step',
  labelNames: ['consumer', 'topic', 'step'] as const,
  registers: [registry],
});

export const consumerLag = new Gauge({
  name: 'hub_consumer_lag',
  help: 'High watermark minus the next offset to process, per partition, as of the last batch',
  labelNames: ['consumer', 'topic', 'partition'] as const,
  registers: [registry],
});

export const eventsApplied = new Counter({
  name: 'hub_state_events_applied_total',
  help: 'Events applied to per-number state records, by topic',
  labelNames: ['topic'] as const,
  registers: [registry],
});

export const eventsSkipped = new Counter({
  name: 'hub_state_events_skipped_total',
  help: 'Events skipped because the record already holds their offset (redelivery after a crash)',
  labelNames: ['topic'] as const,
  registers: [registry],
});

export const stateWriteConflicts = new Counter({
  name: 'hub_state_write_conflicts_total',
  help: 'Compare-and-set misses that made a batch re-read and re-apply',
  registers: [registry],
});

export const stateChangesPublished = new Counter({
  name: 'hub_state_changes_published_total',
  help: 'StateChange records published to the state-changes topic',
  registers: [registry],
});
