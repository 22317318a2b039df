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
import { FileIngestIncompleteError, ingestFile, Publisher, registerIngestSchemas } from '@hub/ingest';
import { EventCodec } from '@hub/schemas';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaOutage } from '../support/outage.ts';
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

describe('a file when Kafka fails part-way', () => {
  it('says which rows are on Kafka, which are unconfirmed, and from which line nothing was sent', async () => {
    const own = testConfig('filepartial');
    const ownKafka = await createTestTopics(own);
    const topics = topicNames(own.TOPIC_PREFIX);
    const ownCodec = new EventCodec(createSchemaRegistry(own));
    await registerIngestSchemas(ownCodec, topics);
    const outage = kafkaOutage(own);
    const cut = createProducer(outage.kafka);
    await cut.connect();
    const send = cut.send;
    let sends = 0;
    cut.send = async (record) => {
      const result = await send(record);
      if (++sends === 1) outage.cut();
      return result;
    };
    const file = join(dir, 'partial.ndjson');
    // Line 3 is rejected; the accepted rows go out two at a time: lines 1-2, 4-5, 6-7.
    const row = (n: number) =>
      JSON.stringify({ msisdn: `0803200000${n}`, action: 'LINK', nin: `1234567890${n}`, date: '2024-01-01' });
    writeFileSync(file, [row(1), row(2), '{"msisdn":"1"}', row(4), row(5), row(6), row(7)].join('\n'));
    try {
      const failure = await ingestFile({
        file,
        kind: 'nin',
        operator: null,
        reportFile: `${file}.rejected.ndjson`,
        batchId: 'b-partial',
        tokenSecret: own.TOKEN_SECRET,
        topics,
        publisher: new Publisher(cut, ownCodec, { timeoutMs: 5_000 }),
        chunkSize: 2,
      }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(FileIngestIncompleteError);
      expect((failure as FileIngestIncompleteError).progress).toMatchObject({
        published: 2,
        publishedThroughLine: 2,
        unconfirmedLines: [[4, 5]],
        resumeFromLine: 6,
        rejected: 1,
      });
      const read = await readTopic(ownKafka, topics.ninLinkages, 2);
      expect(read.map((m) => m.message.key?.toString()).sort()).toEqual(['2348032000001', '2348032000002']);
      expect(readFileSync(`${file}.rejected.ndjson`, 'utf8')).toContain('"line":3');
    } finally {
      await cut.disconnect().catch(() => undefined);
    }
  }, 60_000);
});
