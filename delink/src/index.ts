export { Confirmer } from './confirmer.ts';
export { createDispatcher, idempotencyKeyOf } from './dispatcher.ts';
export { cleanupOf, scopeOf, stepOf } from './events.ts';
export { createWorkflowProjector, projectedUpTo } from './projector.ts';
export { type RunningDelinkWorker, runDelinkWorker } from './worker.ts';
