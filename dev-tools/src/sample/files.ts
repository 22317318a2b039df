import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { eventsOf, type SampleEventKind } from './events.ts';
import { expectedState } from './expected.ts';
import type { Population } from './population.ts';

/** File names of the sample, one per event family, as the file CLI reads them. */
export const SAMPLE_FILES: Readonly<Record<SampleEventKind, string>> = {
  'status-update': 'status-updates.ndjson',
  'nin-linkage': 'nin-linkages.ndjson',
  'bvn-linkage': 'bvn-linkages.ndjson',
  delink: 'delink.ndjson',
};
export const EXPECTED_STATE_FILE = 'expected-state.ndjson';
export const IDENTITIES_FILE = 'identities.json';

export interface WrittenSample {
  files: Record<SampleEventKind, string>;
  expectedState: string;
  /** Records written per file (duplicates included). */
  counts: Record<SampleEventKind, number>;
  numbers: number;
}

/** Writes with backpressure: waits for 'drain' rather than buffering a national sample in memory. */
class Lines {
  private readonly stream: WriteStream;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { encoding: 'utf8' });
  }

  async write(line: string): Promise<void> {
    if (!this.stream.write(`${line}\n`)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.stream.end();
    await finished(this.stream);
  }
}

/**
 * Writes the event files in arrival order and the expected final state. Raw identifiers appear only
 * in the NIMC/NIBSS feed files (as those sources send them), never the expected state, which holds tokens.
 */
export async function writeSample(
  population: Population,
  dir: string,
  onProgress?: (written: number) => void,
): Promise<WrittenSample> {
  mkdirSync(dir, { recursive: true });
  const writers = {} as Record<SampleEventKind, Lines>;
  const counts = {} as Record<SampleEventKind, number>;
  const files = {} as Record<SampleEventKind, string>;
  for (const [kind, name] of Object.entries(SAMPLE_FILES) as [SampleEventKind, string][]) {
    files[kind] = join(dir, name);
    writers[kind] = new Lines(files[kind]);
    counts[kind] = 0;
  }
  let written = 0;
  try {
    for (const event of eventsOf(population)) {
      await writers[event.kind].write(JSON.stringify(event.record));
      counts[event.kind]++;
      if (++written % 50_000 === 0) onProgress?.(written);
    }
  } finally {
    await Promise.all(Object.values(writers).map((w) => w.close()));
  }
  const expectedPath = join(dir, EXPECTED_STATE_FILE);
  const expected = new Lines(expectedPath);
  try {
    for (const state of expectedState(population)) await expected.write(JSON.stringify(state));
  } finally {
    await expected.close();
  }
  return { files, expectedState: expectedPath, counts, numbers: population.numbers.length };
}

/**
 * The NIMC/NIBSS simulators' seed: raw NIN → person and number, raw BVN → holder, NIN, number and
 * accounts. Raw identifiers at rest: written only to the path the caller names (the data folder).
 */
export async function writeIdentities(population: Population, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const out = new Lines(path);
  try {
    await out.write('{"nins":{');
    let first = true;
    for (const p of population.people.values()) {
      const body = {
        firstName: p.firstName,
        surname: p.surname,
        dateOfBirth: p.dateOfBirth,
        msisdn: p.msisdn,
      };
      await out.write(`${first ? '' : ','}${JSON.stringify(p.nin)}:${JSON.stringify(body)}`);
      first = false;
    }
    await out.write('},"bvns":{');
    first = true;
    for (const b of population.bvns.values()) {
      const holder = population.people.get(b.nin);
      if (!holder) throw new Error(`BVN ${b.bvn} refers to an unknown NIN`);
      const body = {
        nin: b.nin,
        firstName: holder.firstName,
        surname: holder.surname,
        dateOfBirth: holder.dateOfBirth,
        msisdn: b.msisdn,
        accounts: b.accounts,
      };
      await out.write(`${first ? '' : ','}${JSON.stringify(b.bvn)}:${JSON.stringify(body)}`);
      first = false;
    }
    await out.write('}}');
  } finally {
    await out.close();
  }
}
