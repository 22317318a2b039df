import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { TopicNames } from '@hub/infra';
import { allocatedOperator, checkStatusUpdate, type EventKind, type EventTypes } from '@hub/schemas';
import { parse } from 'csv-parse';
import { checkFeedRecord } from './feeds.ts';
import type { Principal } from './principal.ts';
import type { KeyedEvent, Publisher } from './publisher.ts';
import { rangeViolation, toStatusEvent } from './status-events.ts';

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
  };
  const nin: Pending<'nin-linkage'> = { kind: 'nin-linkage', topic: o.topics.ninLinkages, events: [] };
  const bvn: Pending<'bvn-linkage'> = { kind: 'bvn-linkage', topic: o.topics.bvnLinkages, events: [] };
  const flush = async <K extends EventKind>(p: Pending<K>) => {
    if (p.events.length === 0) return;
    await o.publisher.publish(p.kind, p.topic, p.events);
    p.events = [];
  };

  let rows = 0;
  let accepted = 0;
  let rejected = 0;
  const reject = (line: number, field: string, reason: string, raw: unknown) => {
    rejected++;
    writeLine(report, { line, field, reason, record: raw });
  };

  for await (const { line, record, error } of records(input, format)) {
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
      status.events.push({ key: event.msisdn, value: event });
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
      if (check.event.kind === 'nin-linkage')
        nin.events.push({
          key: check.event.value.msisdn,
          value: check.event.value as EventTypes['nin-linkage'],
        });
      else
        bvn.events.push({
          key: check.event.value.msisdn,
          value: check.event.value as EventTypes['bvn-linkage'],
        });
    }
    accepted++;
    if (status.events.length + nin.events.length + bvn.events.length >= chunkSize) {
      await Promise.all([flush(status), flush(nin), flush(bvn)]);
      o.onProgress?.(bytesRead, total, accepted, rejected);
    }
  }
  await Promise.all([flush(status), flush(nin), flush(bvn)]);
  o.onProgress?.(total, total, accepted, rejected);
  await new Promise<void>((resolve, reject) =>
    report.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
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
        yield { line, record: null, error: `line is not valid JSON: ${(err as Error).message}` };
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
  parser.on('skip', (err: Error & { lines?: number }) => {
    errors.push(`CSV line ${err.lines ?? '?'} skipped: ${err.message}`);
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

function writeLine(stream: WriteStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}

export const _testing = {
  records: (text: string, format: 'csv' | 'ndjson') => records(Readable.from([text]), format),
};
