import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { TopicNames } from '@hub/infra';
import { allocatedOperator, checkStatusUpdate, type EventKind, type EventTypes, mask } from '@hub/schemas';
import { parse } from 'csv-parse';
import { type IndexRange, indexRanges } from './acceptance.ts';
import { checkFeedRecord } from './feeds.ts';
import type { Principal } from './principal.ts';
import { type KeyedEvent, type Publisher, PublishIncompleteError } from './publisher.ts';
import { jsonSyntaxProblem } from './request-body.ts';
import { rangeViolation, statusEventProblem, toStatusEvent } from './status-events.ts';

export type FileKind = 'status' | 'nin' | 'bvn';

export interface FileIngestOptions {
  file: string;
  kind: FileKind;
  /** Submitting operator for status files: rows are checked against its ranges. Absent: a hub-wide import. */
  operator: string | null;
  format?: 'csv' | 'ndjson';
  reportFile: string;
  batchId: string;
  tokenSecret: string;
  topics: TopicNames;
  publisher: Publisher;
  now?: () => number;
  /** Records per publish; memory stays bounded by this, whatever the file size. */
  chunkSize?: number;
  onProgress?: (bytesRead: number, totalBytes: number, accepted: number, rejected: number) => void;
}

export interface FileIngestResult {
  rows: number;
  accepted: number;
  rejected: number;
  reportFile: string;
}

interface Pending<K extends EventKind> {
  kind: K;
  topic: string;
  events: KeyedEvent<K>[];
  /** The file line of each event. */
  lines: number[];
}

/**
 * Kafka failed part-way through a file. Rows are published in file order, so every accepted row
 * before `unconfirmedLines` is on Kafka; the rows on `unconfirmedLines` may or may not be; nothing
 * from `resumeFromLine` on was sent (rejected rows are in the report either way).
 */
export class FileIngestIncompleteError extends Error {
  override readonly name = 'FileIngestIncompleteError';
  constructor(
    readonly progress: {
      rowsRead: number;
      /** Accepted rows on Kafka (acknowledged). */
      published: number;
      /** The last line whose row is on Kafka; 0 when none is. */
      publishedThroughLine: number;
      unconfirmedLines: IndexRange[];
      /** The first line not sent: a rerun from here (with the unconfirmed rows) completes the file. */
      resumeFromLine: number;
      rejected: number;
      reportFile: string;
    },
    cause: Error,
  ) {
    super(
      `Kafka failed part-way: ${progress.published} rows are on Kafka (through line ${progress.publishedThroughLine}), ${progress.unconfirmedLines.length > 0 ? `rows on lines ${progress.unconfirmedLines.map(([a, b]) => (a === b ? a : `${a}-${b}`)).join(', ')} are unconfirmed, ` : ''}nothing from line ${progress.resumeFromLine} on was sent: ${cause.message}`,
      { cause },
    );
  }
}

/**
 * Streams a CSV (header row) or NDJSON file of status updates or identity-feed records onto Kafka.
 * Each row is validated exactly as over HTTP; rejected rows go to an NDJSON report (line, field,
 * reason) and never stop the rest. Publishing waits for Kafka every chunk, so memory is constant.
 */
export async function ingestFile(o: FileIngestOptions): Promise<FileIngestResult> {
  const format = o.format ?? (o.file.endsWith('.csv') ? 'csv' : 'ndjson');
  const total = (await stat(o.file)).size;
  const now = o.now ?? Date.now;
  const chunkSize = o.chunkSize ?? 5_000;
  const report = createWriteStream(o.reportFile);
  const principal: Principal = o.operator
    ? { organisation: o.operator, type: 'OPERATOR', operatorCode: o.operator, credentialId: 'file' }
    : { organisation: 'HUB', type: 'HUB', operatorCode: null, credentialId: 'file' };
  const input = createReadStream(o.file);
  let bytesRead = 0;
  input.on('data', (chunk) => {
    bytesRead += chunk.length;
  });

  const status: Pending<'status-update'> = {
    kind: 'status-update',
    topic: o.topics.statusUpdates,
    events: [],
    lines: [],
  };
  const nin: Pending<'nin-linkage'> = {
    kind: 'nin-linkage',
    topic: o.topics.ninLinkages,
    events: [],
    lines: [],
  };
  const bvn: Pending<'bvn-linkage'> = {
    kind: 'bvn-linkage',
    topic: o.topics.bvnLinkages,
    events: [],
    lines: [],
  };
  let rows = 0;
  let accepted = 0;
  let rejected = 0;
  let published = 0;
  let publishedThroughLine = 0;
  let lastLine = 0;
  // One kind per file, so one of the three is ever non-empty and events go out in file order.
  const flush = async <K extends EventKind>(p: Pending<K>) => {
    if (p.events.length === 0) return;
    try {
      await o.publisher.publish(p.kind, p.topic, p.events);
    } catch (err) {
      if (!(err instanceof PublishIncompleteError)) throw err;
      await endReport();
      const done = err.published + err.unconfirmed;
      throw new FileIngestIncompleteError(
        {
          rowsRead: rows,
          published: published + err.published,
          publishedThroughLine: err.published > 0 ? p.lines[err.published - 1]! : publishedThroughLine,
          unconfirmedLines: indexRanges(p.lines.slice(err.published, done)),
          resumeFromLine: p.lines[done] ?? lastLine + 1,
          rejected,
          reportFile: o.reportFile,
        },
        err,
      );
    }
    published += p.events.length;
    publishedThroughLine = p.lines[p.lines.length - 1] ?? publishedThroughLine;
    p.events = [];
    p.lines = [];
  };
  const endReport = () =>
    new Promise<void>((resolve, reject) =>
      report.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );

  const reject = (line: number, field: string, reason: string, raw: unknown) => {
    rejected++;
    writeLine(report, { line, field, reason, record: maskIdentifiers(raw) });
  };

  for await (const { line, record, error } of records(input, format)) {
    // CSV parse errors carry no line of their own (0); they never become events.
    if (line > 0) lastLine = line;
    rows++;
    if (error) {
      reject(line, '', error, null);
      continue;
    }
    const receivedAt = now();
    if (o.kind === 'status') {
      const check = checkStatusUpdate(record);
      if (!check.ok) {
        const first = check.problems[0]!;
        reject(
          line,
          first.field,
          check.problems.map((p) => `${p.field || 'record'}: ${p.message}`).join('; '),
          record,
        );
        continue;
      }
      const violation = rangeViolation(principal, check.value.msisdn);
      if (violation) {
        reject(line, 'phoneNumber', violation, record);
        continue;
      }
      const rowOperator = (record as { operator?: unknown }).operator;
      const operator =
        o.operator ??
        (typeof rowOperator === 'string' && rowOperator
          ? rowOperator
          : (allocatedOperator(check.value.msisdn)?.code ?? 'UNKNOWN'));
      const event = toStatusEvent(check.value, operator, 'FILE', receivedAt, o.batchId);
      const refused = statusEventProblem(event);
      if (refused) {
        reject(line, refused.field, `${refused.field || 'record'}: ${refused.message}`, record);
        continue;
      }
      status.events.push({ key: event.msisdn, value: event });
      status.lines.push(line);
    } else {
      const check = checkFeedRecord(
        o.kind === 'nin' ? 'NIMC' : 'NIBSS',
        record,
        o.tokenSecret,
        'FILE',
        receivedAt,
      );
      if (!check.ok) {
        reject(
          line,
          check.problems[0]!.field,
          check.problems.map((p) => `${p.field || 'record'}: ${p.message}`).join('; '),
          record,
        );
        continue;
      }
      if (check.event.kind === 'nin-linkage') {
        nin.events.push({
          key: check.event.value.msisdn,
          value: check.event.value as EventTypes['nin-linkage'],
        });
        nin.lines.push(line);
      } else {
        bvn.events.push({
          key: check.event.value.msisdn,
          value: check.event.value as EventTypes['bvn-linkage'],
        });
        bvn.lines.push(line);
      }
    }
    accepted++;
    if (status.events.length + nin.events.length + bvn.events.length >= chunkSize) {
      await Promise.all([flush(status), flush(nin), flush(bvn)]);
      o.onProgress?.(bytesRead, total, accepted, rejected);
    }
  }
  await Promise.all([flush(status), flush(nin), flush(bvn)]);
  o.onProgress?.(total, total, accepted, rejected);
  await endReport();
  return { rows, accepted, rejected, reportFile: o.reportFile };
}

interface Row {
  line: number;
  record: unknown;
  error?: string;
}

async function* records(input: Readable, format: 'csv' | 'ndjson'): AsyncGenerator<Row> {
  if (format === 'ndjson') {
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (text.trim() === '') continue;
      try {
        yield { line, record: JSON.parse(text) as unknown };
      } catch (err) {
        yield { line, record: null, error: `line ${jsonSyntaxProblem(err, text)}` };
      }
    }
    return;
  }
  // CSV: the header row names the fields; empty cells are absent fields. A malformed row is
  // reported and skipped (skip_records_with_error) rather than ending the file.
  const errors: string[] = [];
  const parser = parse({
    columns: true,
    skip_empty_lines: true,
    trim: true,
    skip_records_with_error: true,
    info: true,
  });
  parser.on('skip', (err: Error & { lines?: number; code?: string }) => {
    errors.push(`CSV line ${err.lines ?? '?'} skipped: ${csvProblem(err)}`);
  });
  input.pipe(parser);
  for await (const row of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    while (errors.length > 0) yield { line: 0, record: null, error: errors.shift()! };
    const record: Record<string, string> = {};
    for (const [k, v] of Object.entries(row.record)) if (v !== '') record[k] = v;
    yield { line: row.info.lines, record };
  }
  while (errors.length > 0) yield { line: 0, record: null, error: errors.shift()! };
}

/** csv-parse's messages can quote a cell ("value is \"…\""); the report names the problem only. */
function csvProblem(err: Error & { code?: string }): string {
  switch (err.code) {
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return 'the row has a different number of columns from the header';
    case 'INVALID_OPENING_QUOTE':
    case 'CSV_INVALID_OPENING_QUOTE':
      return 'a quote opens inside an unquoted cell';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted cell has characters after its closing quote';
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted cell is never closed';
    default:
      return `malformed CSV (${err.code ?? 'parse error'})`;
  }
}

/** Words of a field name that mark a NIN, BVN or account number: nin, holderNin, holder_nin, bvn, nuban. */
const IDENTIFIER_WORDS = new Set(['nin', 'bvn', 'nuban', 'account']);
const identifierField = (field: string): boolean =>
  field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((word) => IDENTIFIER_WORDS.has(word));

/**
 * The row as the report shows it: identifier fields masked to their last four digits, as the hub
 * displays them everywhere, so a report file holds no raw NIN, BVN or NUBAN.
 */
export function maskIdentifiers(value: unknown, field = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => maskIdentifiers(v, field));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskIdentifiers(v, k)]));
  }
  if (identifierField(field) && (typeof value === 'string' || typeof value === 'number')) {
    return mask(String(value));
  }
  return value;
}

function writeLine(stream: WriteStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}

export const _testing = {
  records: (text: string, format: 'csv' | 'ndjson') => records(Readable.from([text]), format),
};
