export { type Arrival, arrivalOrder } from './arrival.ts';
export {
  type BvnFileRecord,
  type DelinkFileRecord,
  eventsOf,
  type NinFileRecord,
  SAMPLE_EVENT_KINDS,
  SAMPLE_SOURCE,
  type SampleEvent,
  type SampleEventKind,
  type StatusFileRecord,
} from './events.ts';
export {
  type CleanupStatus,
  CONFLICT_CODES,
  type ConflictCode,
  type ExpectedState,
  expectedState,
  expectedStateOf,
  type LifecycleStatus,
} from './expected.ts';
export {
  EXPECTED_STATE_FILE,
  IDENTITIES_FILE,
  SAMPLE_FILES,
  type WrittenSample,
  writeIdentities,
  writeSample,
} from './files.ts';
export {
  DEFAULT_RATES,
  defaultEndDate,
  type ResolvedOptions,
  type SampleOptions,
  SampleOptionsError,
  type SampleRates,
} from './options.ts';
export { generatePopulation, type Population } from './population.ts';
export { Prng } from './prng.ts';
export {
  encodeSampleEvent,
  type PublishOptions,
  type PublishResult,
  publishSample,
  sampleTopics,
  sendSampleEvents,
} from './publish.ts';
export type { SampleNumber, Trait, TruthEvent } from './truth.ts';
