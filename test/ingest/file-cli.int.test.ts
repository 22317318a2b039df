import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Config,
  createKafka,
  createProducer,
  createSchemaRegistry,
  repoRoot,
  topicNames,
} from '@hub/infra';
import { ingestFile, Publisher, registerIngestSchemas } from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTopics, readTopic, testConfig } from '../support/stack.ts';

let config: Config;
let kafka: Kafka;
let producer: Producer;
let codec: EventCodec;
const dir = mkdtempSync(join(tmpdir(), 'hub-file-'));

beforeAll(async () => {
  config = testConfig('file');
  kafka = await createTestTopics(config);
  codec = new EventCodec(createSchemaRegistry(config));
  await registerIngestSchemas(codec, topicNames(config.TOPIC_PREFIX));
  producer = createProducer(createKafka(config));
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
});

describe('bulk file ingest', () => {
  it('streams 200,000 NDJSON status rows onto Kafka and reports the bad ones by line', async () => {
    const file = join(dir, 'status.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      if (i % 50_000 === 7) lines.push('{not json');
      else if (i % 50_000 === 8)
        lines.push(
          JSON.stringify({ phoneNumber: '0803', status: 'NORMAL', occurrenceOfStatusDate: '2025-01-01' }),
        );
      else
        lines.push(
          JSON.stringify({
            phoneNumber: `0806${String(i).padStart(7, '0')}`,
            status: 'NORMAL',
            occurrenceOfStatusDate: '2025-01-01',
          }),
        );
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const topics = topicNames(config.TOPIC_PREFIX);
    const started = performance.now();
    const result = await ingestFile({
      file,
      kind: 'status',
      operator: 'MTN',
      reportFile: `${file}.rejected.ndjson`,
      batchId: 'file-test',
      tokenSecret: config.TOKEN_SECRET,
      topics,
      publisher: new Publisher(producer, codec),
    });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `file ingest: ${result.rows} rows in ${seconds.toFixed(2)} s (${Math.round(result.rows / seconds)} rows/s)`,
    );
    expect(result).toMatchObject({ rows: 200_000, accepted: 199_992, rejected: 8 });
    const report = readFileSync(result.reportFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; field: string; reason: string });
    expect(report).toHaveLength(8);
    expect(report[0]).toMatchObject({ line: 8, reason: expect.stringContaining('not valid JSON') });
    expect(report[1]).toMatchObject({
      line: 9,
      field: 'phoneNumber',
      reason: expect.stringContaining('4 digits'),
    });
    const read = await readTopic(kafka, topics.statusUpdates, 199_992, 120_000);
    expect(new Set(read.map((m) => m.message.key?.toString())).size).toBe(199_992);
  }, 240_000);

  it('the CLI tokenises a CSV NIMC file and rejects rows naming the field', async () => {
    const file = join(dir, 'nin.csv');
    writeFileSync(
      file,
      'msisdn,action,nin,date\n08031234567,LINK,12345678901,2024-01-01\n08031234568,LINK,123,2024-01-01\n08031234569,LINK,12345678902,2024-13-01\n',
    );
    const { stdout } = await promisify(execFile)(
      'npx',
      ['tsx', 'ingest/src/file-cli.ts', '--kind', 'nin', file],
      {
        cwd: repoRoot,
        env: { ...process.env, TOPIC_PREFIX: config.TOPIC_PREFIX, LOG_LEVEL: 'error' },
      },
    );
    const summary = JSON.parse(stdout.trim().split('\n').pop()!) as {
      rows: number;
      accepted: number;
      rejected: number;
      reportFile: string;
    };
    expect(summary).toMatchObject({ rows: 3, accepted: 1, rejected: 2 });
    const reportText = readFileSync(summary.reportFile, 'utf8');
    const report = reportText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { field: string; record: { nin?: string } });
    expect(report.map((r) => r.field)).toEqual(['nin', 'date']);
    // The row rejected for its date holds a valid NIN: the report shows it masked, never raw.
    expect(reportText).not.toContain('12345678902');
    expect(report[1]!.record.nin).toBe('*******8902');
    const [message] = await readTopic(kafka, topicNames(config.TOPIC_PREFIX).ninLinkages, 1);
    expect(message!.message.value!.toString('latin1')).not.toContain('12345678901');
    expect(await codec.decode('nin-linkage', message!.message.value)).toMatchObject({
      msisdn: '2348031234567',
      source: 'FILE',
      ninMasked: '*******8901',
    });
  }, 60_000);
});
