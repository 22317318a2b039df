import { eventsOf, generatePopulation, type SampleEvent } from '@hub/dev-tools/sample/index';
import { deriveView } from './derive.ts';
import { decodeState, encodeState } from './encoding.ts';
import { applyEvent } from './machine.ts';
import { emptyRecord, type StateEvent, type StateRecord } from './record.ts';

/**
 * Micro-benchmark of the state package's hot functions over the dev-tools sample (realistic
 * numbers and event mixes), in µs per call:
 *
 *   npx tsx state/src/hot-bench.ts [numbers=20000] [rounds=5]
 *
 * applyEvent is timed over every event of every number in arrival order per number; encodeState,
 * decodeState and deriveView over each number's final record.
 */
const numbers = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);

function stateEventOf(e: SampleEvent): StateEvent {
  switch (e.kind) {
    case 'status-update':
      return { input: 'status', event: e.value };
    case 'nin-linkage':
      return { input: 'nin', event: e.value };
    case 'bvn-linkage':
      return { input: 'bvn', event: e.value };
    case 'delink':
      return { input: 'delink', event: e.value };
  }
}

const population = generatePopulation(
  { numbers, seed: 7, tokenSecret: 'hot-bench', endDate: '2026-11-30' },
  Date.UTC(2026, 11, 1),
);
const byNumber = new Map<string, StateEvent[]>();
for (const e of eventsOf(population)) {
  let list = byNumber.get(e.msisdn);
  if (!list) {
    list = [];
    byNumber.set(e.msisdn, list);
  }
  list.push(stateEventOf(e));
}
const stories = [...byNumber];
const eventCount = stories.reduce((n, [, evs]) => n + evs.length, 0);

function foldAll(): StateRecord[] {
  const out: StateRecord[] = [];
  for (const [, evs] of stories) {
    let r = emptyRecord();
    for (let i = 0; i < evs.length; i++) {
      const o = applyEvent(r, evs[i]!, BigInt(i));
      if (o.status === 'applied') r = o.record;
    }
    out.push(r);
  }
  return out;
}

const records = foldAll();
const msisdns = stories.map(([m]) => m);
const encoded = records.map(encodeState);
const bytes = encoded.reduce((n, b) => n + b.length, 0);

function time(label: string, calls: number, fn: () => void): void {
  fn(); // warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < rounds; k++) {
    const t0 = process.cpuUsage();
    fn();
    const t = process.cpuUsage(t0);
    best = Math.min(best, (t.user + t.system) / calls);
  }
  process.stdout.write(`${label.padEnd(14)} ${best.toFixed(3).padStart(8)} µs/call\n`);
}

process.stdout.write(
  `${stories.length} numbers, ${eventCount} events, ${(bytes / records.length).toFixed(1)} bytes/record; best of ${rounds} rounds (CPU time)\n`,
);
let sink = 0;
time('applyEvent', eventCount, () => {
  sink += foldAll().length;
});
time('encodeState', records.length, () => {
  for (const r of records) sink += encodeState(r).length;
});
time('decodeState', encoded.length, () => {
  for (const b of encoded) sink += decodeState(b).version;
});
time('deriveView', records.length, () => {
  for (let i = 0; i < records.length; i++) sink += deriveView(msisdns[i]!, records[i]!).version;
});
time('decode+derive', encoded.length, () => {
  for (let i = 0; i < encoded.length; i++) sink += deriveView(msisdns[i]!, decodeState(encoded[i]!)).version;
});
if (sink === 0) process.stdout.write('\n');
