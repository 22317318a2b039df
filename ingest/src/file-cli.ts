import { parseArgs } from 'node:util';
import { createKafka, createProducer, createSchemaRegistry, loadConfig, topicNames } from '@hub/infra';
import { EventCodec } from '@hub/schemas';
import { SingleBar } from 'cli-progress';
import { registerIngestSchemas } from './bootstrap.ts';
import { newBatchId } from './event-ids.ts';
import { FileIngestIncompleteError, type FileKind, ingestFile } from './file-ingest.ts';
import { Publisher } from './publisher.ts';

const USAGE = `usage: tsx ingest/src/file-cli.ts --kind status|nin|bvn [--operator CODE] [--format csv|ndjson] [--report FILE] <file>

Streams a CSV (with a header row) or NDJSON file onto Kafka, validating every row as the HTTP
endpoints do. Rejected rows are written to the report (default <file>.rejected.ndjson).
  --kind status   TIRMS status updates: phoneNumber, status, occurrenceOfStatusDate, reassignmentDate, remarks
  --kind nin      NIMC linkages: msisdn, action (LINK|UNLINK), nin, date
  --kind bvn      NIBSS linkages: msisdn, action, bvn, holderNin, nuban, bankCode, date
  --operator      the submitting operator for status files (rows outside its ranges are rejected);
                  without it the file is a hub-wide import`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      operator: { type: 'string' },
      format: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const file = positionals[0];
  const kind = values.kind as FileKind | undefined;
  const problems: string[] = [];
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!file) problems.push('a file to ingest is required');
  if (kind !== 'status' && kind !== 'nin' && kind !== 'bvn')
    problems.push('--kind must be status, nin or bvn');
  if (values.format && values.format !== 'csv' && values.format !== 'ndjson')
    problems.push('--format must be csv or ndjson');
  if (values.operator && kind !== 'status') problems.push('--operator applies to status files only');
  if (problems.length > 0 || !file || !kind) {
    console.error(`${problems.join('\n')}\n\n${USAGE}`);
    return 2;
  }

  const config = loadConfig();
  const topics = topicNames(config.TOPIC_PREFIX);
  const codec = new EventCodec(createSchemaRegistry(config));
  await registerIngestSchemas(codec, topics);
  const producer = createProducer(createKafka(config));
  await producer.connect();
  const bar = new SingleBar({
    format: 'ingest |{bar}| {percentage}% | {accepted} accepted, {rejected} rejected | {rate} rows/s',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5_000,
  });
  bar.start(100, 0, { accepted: 0, rejected: 0, rate: 0 });
  const started = performance.now();
  try {
    const result = await ingestFile({
      file,
      kind,
      operator: values.operator ?? null,
      format: values.format as 'csv' | 'ndjson' | undefined,
      reportFile: values.report ?? `${file}.rejected.ndjson`,
      batchId: newBatchId(),
      tokenSecret: config.TOKEN_SECRET,
      topics,
      publisher: new Publisher(producer, codec),
      onProgress: (read, total, accepted, rejected) => {
        const seconds = (performance.now() - started) / 1000;
        bar.update(total ? Math.round((read / total) * 100) : 100, {
          accepted,
          rejected,
          rate: Math.round((accepted + rejected) / Math.max(seconds, 0.001)),
        });
      },
    });
    bar.stop();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        ...result,
        seconds: Number(seconds.toFixed(2)),
        rowsPerSecond: Math.round(result.rows / seconds),
      }),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof FileIngestIncompleteError)) throw err;
    bar.stop();
    // Which rows Kafka holds, so a rerun sends the rest and nothing twice that was confirmed.
    console.log(JSON.stringify({ complete: false, ...err.progress }));
    console.error(`file ingest incomplete: ${err.message}`);
    return 1;
  } finally {
    bar.stop();
    await producer.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`file ingest failed: ${err.message}`);
    process.exit(1);
  },
);
