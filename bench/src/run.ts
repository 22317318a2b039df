import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@hub/infra';
import { benchFreshness, benchHttpIngest } from './api-ingest.ts';
import { benchClients } from './clients.ts';
import { benchDelink } from './delink.ts';
import { benchHistoryReads } from './history-reads.ts';
import { benchSinkReplay } from './history-replay.ts';
import { benchIngest } from './ingest.ts';
import { benchWatchList, benchWebhooks, benchWebSockets } from './outbound.ts';
import { formatTable, type Row } from './table.ts';
import { benchVerify } from './verify.ts';

/**
 * `npm run bench`: every benchmark, one table, ratios against ceilings measured in the same run.
 * Results are also written as JSON under bench/results/ so runs can be compared.
 */
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
const quick = values.quick === true;
const only = values.only?.split(',');
const want = (name: string) => !only || only.includes(name);

const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;

if (want('verify')) {
  console.error('bench: verify…');
  const r = await benchVerify({
    numbers: quick ? 5_000 : 20_000,
    durationMs: quick ? 4_000 : 10_000,
    connections: 32,
  });
  rows.push(...r.rows);
  raw.verify = r.raw;
}

if (want('ingest') || want('rebuild') || want('memory')) {
  console.error('bench: ingest end to end, memory, rebuild…');
  const r = await benchIngest({
    numbers: quick ? 10_000 : 100_000,
    rebuild: want('rebuild'),
    memory: want('memory'),
  });
  rows.push(...r.rows);
  raw.ingest = r.raw;
}

if (want('http')) {
  console.error('bench: HTTP and file ingest…');
  const r = await benchHttpIngest({ records: quick ? 20_000 : 100_000 });
  rows.push(...r.rows);
  raw.http = r.raw;
}

if (want('freshness')) {
  console.error('bench: freshness and verify under ingest…');
  const r = await benchFreshness({
    numbers: quick ? 5_000 : 20_000,
    samples: quick ? 40 : 200,
    backgroundRate: quick ? 1_000 : 2_000,
    verifyRate: 1_000,
    verifyIngestRate: 5_000,
    verifyMs: quick ? 5_000 : 15_000,
  });
  rows.push(...r.rows);
  raw.freshness = r.raw;
}

if (want('clients')) {
  console.error('bench: Kafka clients…');
  const r = await benchClients({ messages: quick ? 50_000 : 200_000, partitions: 6 });
  rows.push(...r.rows);
  raw.clients = r.raw;
}

if (want('history')) {
  console.error('bench: conflicts page, dashboard counts and sink resume over a long state-change history…');
  const r = await benchHistoryReads({
    stateChanges: quick ? 2_000_000 : 10_000_000,
    pages: quick ? 60 : 200,
    settleMs: quick ? 30_000 : 120_000,
  });
  rows.push(...r.rows);
  raw.history = r.raw;
}

if (want('replay')) {
  console.error('bench: history sink replay over many received months…');
  const r = await benchSinkReplay({ numbers: quick ? 20_000 : 100_000 });
  rows.push(...r.rows);
  raw.replay = r.raw;
}

if (want('delink')) {
  console.error('bench: delink detection scan and approve → COMPLETED…');
  const r = await benchDelink({
    numbers: quick ? 200_000 : 1_000_000,
    requests: quick ? 20 : 100,
    concurrency: 5,
  });
  rows.push(...r.rows);
  raw.delink = r.raw;
}

if (want('webhooks')) {
  console.error('bench: state change → webhook received…');
  const r = await benchWebhooks({
    numbers: quick ? 2_000 : 10_000,
    rate: 1_000,
    seconds: quick ? 5 : 20,
    subscribers: 10,
  });
  rows.push(...r.rows);
  raw.webhooks = r.raw;
}

if (want('websockets')) {
  console.error('bench: WebSocket fan-out…');
  const r = await benchWebSockets({ clients: 1_000, events: quick ? 40 : 200 });
  rows.push(...r.rows);
  raw.websockets = r.raw;
}

if (want('watchlist')) {
  console.error('bench: watch-list memory…');
  const r = await benchWatchList({ numbers: quick ? 20_000 : 100_000, banks: 5 });
  rows.push(...r.rows);
  raw.watchlist = r.raw;
}

const table = formatTable(rows);
console.log(`\nMachine: ${machine}\n\n${table}`);
const dir = join(repoRoot, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(
  join(dir, `${stamp}.json`),
  `${JSON.stringify({ machine, at: new Date().toISOString(), rows, raw }, null, 2)}\n`,
);
writeFileSync(join(dir, 'latest.md'), `Machine: ${machine}, ${new Date().toISOString()}\n\n${table}\n`);
process.exit(0);
