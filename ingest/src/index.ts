export { createIngestApp } from './app.ts';
export { ANY_ROLE, credentialHeader, requireApiKey, requireAuth } from './auth.ts';
export * from './backlog.ts';
export {
  apiKeysFile,
  createIngestContext,
  type IngestResources,
  loadStaticApiKeys,
  registerIngestSchemas,
} from './bootstrap.ts';
export { type BulkReport, BulkReportStore, type Rejection } from './bulk-reports.ts';
export type { IngestContext, IngestEnv } from './context.ts';
export { DataSubjectPublisher, type PublishedDataSubjectEvent } from './data-subject.ts';
export * from './envelope.ts';
export { contentEventId } from './event-ids.ts';
export { checkFeedRecord, type FeedSource } from './feeds.ts';
export {
  FileIngestIncompleteError,
  type FileIngestOptions,
  type FileIngestResult,
  type FileKind,
  ingestFile,
} from './file-ingest.ts';
export { nodeRequest, nodeResponse, requestHeader, responseHeader } from './node-http.ts';
export * from './openapi.ts';
export * from './principal.ts';
export { KafkaUnavailableError, Publisher, PublishIncompleteError } from './publisher.ts';
export { readJsonBody } from './request-body.ts';
export { requestLog } from './request-log.ts';
export { rangeViolation } from './status-events.ts';
export * from './unavailable.ts';
export { registerWorkflowSchemas, WorkflowWriter } from './workflow.ts';
