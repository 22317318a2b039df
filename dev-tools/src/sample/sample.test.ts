import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatedOperator, checkDate, checkStatusUpdate, currentSchema } from '@hub/schemas';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replay } from './arrival-replay.ts';
import { eventsOf, type SampleEvent } from './events.ts';
import { expectedState } from './expected.ts';
import { SAMPLE_FILES, writeIdentities, writeSample } from './files.ts';
import { SampleOptionsError } from './options.ts';
import { generatePopulation, type Population } from './population.ts';
import { tokenCache } from './tokens.ts';
import type { Trait } from './truth.ts';

const SECRET = 'unit-test-token-secret-that-is-long-enough';
const END = '2025-06-30';
// Fixed "now" a day after END, so validation of the period does not depend on the clock.
const NOW = Date.parse('2025-07-01T12:00:00Z');
const N = 4000;

let population: Population;
let events: SampleEvent[];
const dirs: string[] = [];

beforeAll(() => {
  population = generatePopulation({ numbers: N, seed: 20_250_630, tokenSecret: SECRET, endDate: END }, NOW);
  events = [...eventsOf(population)];
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hub-sample-'));
  dirs.push(d);
  return d;
}

async function digestOf(seed: number): Promise<Record<string, string>> {
  const pop = generatePopulation({ numbers: 300, seed, tokenSecret: SECRET, endDate: END }, NOW);
  const dir = tempDir();
  await writeSample(pop, dir);
  await writeIdentities(pop, join(dir, 'identities.json'));
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );
}

const share = (trait: Trait, among = population.numbers) =>
  among.filter((n) => n.traits.includes(trait)).length / among.length;

describe('synthetic national sample', () => {
  it('writes byte-identical files for the same seed and different ones for another seed', async () => {
    const a = await digestOf(7);
    const b = await digestOf(7);
    const c = await digestOf(8);
    expect(Object.keys(a)).toEqual([
      'bvn-linkages.ndjson',
      'delink.ndjson',
      'expected-state.ndjson',
      'identities.json',
      'nin-linkages.ndjson',
      'status-updates.ndjson',
    ]);
    expect(b).toEqual(a);
    for (const file of Object.keys(a)) expect(c[file], file).not.toBe(a[file]);
  });

  it('rejects bad options with every problem named', () => {
    expect(() =>
      generatePopulation(
        {
          numbers: 0,
          seed: -1,
          tokenSecret: '',
          endDate: '2025-02-30',
          rates: { late: 2, bogus: 0.1 } as never,
        },
        NOW,
      ),
    ).toThrow(SampleOptionsError);
    try {
      generatePopulation(
        { numbers: 0, seed: -1, tokenSecret: '', endDate: '2025-02-30', rates: { late: 2 } },
        NOW,
      );
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toMatch(/numbers must be an integer from 1/);
      expect(msg).toMatch(/seed must be an integer/);
      expect(msg).toMatch(/tokenSecret must be a non-empty string/);
      expect(msg).toMatch(/endDate '2025-02-30' is not a real calendar date/);
      expect(msg).toMatch(/rate late must be a number from 0 to 1, got 2/);
    }
    expect(() =>
      generatePopulation({ numbers: 1, seed: 1, tokenSecret: SECRET, endDate: '2025-07-05' }, NOW),
    ).toThrow(/endDate '2025-07-05' is in the future/);
    expect(() =>
      generatePopulation(
        { numbers: 1, seed: 1, tokenSecret: SECRET, startDate: '2025-01-01', endDate: END },
        NOW,
      ),
    ).toThrow(/must be at least 365/);
  });

  it('makes distinct numbers spread across operators roughly by market share', () => {
    const msisdns = population.numbers.map((n) => n.msisdn);
    expect(new Set(msisdns).size).toBe(N);
    for (const n of population.numbers) expect(allocatedOperator(n.msisdn)?.code).toBe(n.allocatedOperator);
    const mtn = population.numbers.filter((n) => n.allocatedOperator === 'MTN').length / N;
    const airtel = population.numbers.filter((n) => n.allocatedOperator === 'AIRTEL').length / N;
    expect(mtn).toBeGreaterThan(0.49);
    expect(mtn).toBeLessThan(0.55);
    expect(airtel).toBeGreaterThan(0.24);
    expect(airtel).toBeLessThan(0.3);
  });

  it('honours the default rates roughly', () => {
    // NIN: 92% of first owners, plus reassigned numbers' new owners.
    expect(share('nin-linked')).toBeGreaterThan(0.9);
    expect(share('nin-linked')).toBeLessThan(0.95);
    expect(share('bvn-linked')).toBeGreaterThan(0.57);
    expect(share('bvn-linked')).toBeLessThan(0.67);
    expect(share('churned')).toBeGreaterThan(0.1);
    expect(share('churned')).toBeLessThan(0.14);
    const churned = population.numbers.filter((n) => n.traits.includes('churned'));
    expect(share('reassigned', churned)).toBeGreaterThan(0.68);
    expect(share('reassigned', churned)).toBeLessThan(0.82);
    expect(share('swapped')).toBeGreaterThan(0.06);
    expect(share('swapped')).toBeLessThan(0.1);
    expect(share('blacklisted')).toBeGreaterThan(0.004);
    expect(share('blacklisted')).toBeLessThan(0.02);
    const requested = population.numbers.filter((n) => n.traits.includes('delink-requested'));
    expect(requested.length).toBeGreaterThan(50);
    expect(share('delink-completed', requested)).toBeGreaterThan(0.45);
    expect(share('delink-completed', requested)).toBeLessThan(0.75);
    expect(share('swapped-recently')).toBeGreaterThan(0.01);
    for (const t of ['second-nin', 'holder-nin-differs', 'unlinked', 'ported', 'stale-left'] as const) {
      expect(share(t), t).toBeGreaterThan(0);
    }
  });

  it('delivers a share of events late (after a newer event of the same number) and some twice', () => {
    let late = 0;
    const newest = new Map<string, string>();
    const seen = new Set<string>();
    let duplicates = 0;
    for (const e of events) {
      if (e.kind !== 'status-update') continue;
      const day = e.value.occurrenceDate;
      const prev = newest.get(e.msisdn);
      if (prev !== undefined && day < prev) late++;
      if (prev === undefined || day > prev) newest.set(e.msisdn, day);
    }
    const firstDelivery = new Map<string, string>();
    for (const e of events) {
      const bytes = JSON.stringify(e.value);
      if (seen.has(e.value.eventId)) {
        duplicates++;
        // A duplicate is the same event again, not a new one with the same id.
        expect(bytes).toBe(firstDelivery.get(e.value.eventId));
      }
      seen.add(e.value.eventId);
      firstDelivery.set(e.value.eventId, bytes);
    }
    const statusCount = events.filter((e) => e.kind === 'status-update').length;
    expect(late / statusCount).toBeGreaterThan(0.005);
    expect(duplicates / events.length).toBeGreaterThan(0.01);
    expect(duplicates / events.length).toBeLessThan(0.04);
  });

  it('agrees with a literal arrival-order replay of the state rules for every number', () => {
    const byNumber = new Map(population.numbers.map((n) => [n.msisdn, n.allocatedOperator]));
    const replay = new Replay((m) => byNumber.get(m) ?? 'UNKNOWN');
    for (const e of events) replay.apply(e);
    const expected = expectedState(population);
    let mismatches = 0;
    for (const s of expected) {
      const got = replay.state(s.msisdn);
      if (JSON.stringify(got) !== JSON.stringify(s)) {
        mismatches++;
        if (mismatches === 1) expect(got).toEqual(s);
      }
    }
    expect(mismatches).toBe(0);
    // The sample is only a good oracle if every outcome occurs.
    const lifecycles = new Set(expected.map((s) => s.lifecycleStatus));
    expect([...lifecycles].sort()).toEqual(['ACTIVE', 'AVAILABLE', 'BLOCKED', 'CONFLICTED', 'RECYCLED']);
    const cleanups = new Set(expected.map((s) => s.cleanupStatus));
    expect([...cleanups].sort()).toEqual(['completed', 'in_progress', 'not_required', 'pending']);
    const codes = new Set(expected.flatMap((s) => s.conflicts.map((c) => c.code)));
    expect(codes.size).toBe(4);
  });

  it('agrees with a replay of the topics one after the other, delinks first, for every number', () => {
    // Kafka keeps each topic's order per number, nothing more: this is another valid interleaving.
    const byNumber = new Map(population.numbers.map((n) => [n.msisdn, n.allocatedOperator]));
    const replay = new Replay((m) => byNumber.get(m) ?? 'UNKNOWN');
    for (const kind of ['delink', 'bvn-linkage', 'nin-linkage', 'status-update'] as const) {
      for (const e of events) if (e.kind === kind) replay.apply(e);
    }
    const expected = expectedState(population);
    const mismatching = expected.filter((s) => JSON.stringify(replay.state(s.msisdn)) !== JSON.stringify(s));
    if (mismatching[0]) expect(replay.state(mismatching[0].msisdn)).toEqual(mismatching[0]);
    expect(mismatching).toHaveLength(0);
    expect(population.numbers.filter((n) => n.traits.includes('delink-completed')).length).toBeGreaterThan(5);
  });

  it('clears exactly what a COMPLETED delink would clear when applied at its true moment in each life', () => {
    // The intuitive reading, in true chronological order: a completion clears the linkages active
    // then that were linked before the latest recycle so far. The date rule must agree with it.
    const tokens = tokenCache(SECRET);
    const expected = expectedState(population);
    population.numbers.forEach((n, i) => {
      const active = { NIN: new Map<string, string>(), BVN: new Map<string, string>() };
      let recycle = null as string | null;
      for (const e of n.truth) {
        if (e.kind === 'status-update' && (e.status === 'CHURNED' || e.status === 'REASSIGNED')) {
          recycle = recycle === null || e.day > recycle ? e.day : recycle;
        } else if (e.kind === 'nin-linkage' || e.kind === 'bvn-linkage') {
          const [kind, raw] =
            e.kind === 'nin-linkage' ? (['NIN', e.nin] as const) : (['BVN', e.bvn] as const);
          if (e.action === 'LINK') active[kind].set(raw, e.day);
          else active[kind].delete(raw);
        } else if (e.kind === 'delink' && e.action === 'COMPLETED' && recycle !== null) {
          for (const kind of ['NIN', 'BVN'] as const) {
            if (e.scope !== 'ALL' && e.scope !== kind) continue;
            for (const [raw, day] of active[kind]) if (day < recycle) active[kind].delete(raw);
          }
        }
      }
      const s = expected[i]!;
      expect([...active.NIN.keys()].map((raw) => tokens('NIN', raw)).sort(), n.msisdn).toEqual(
        s.activeNinTokens,
      );
      expect([...active.BVN.keys()].map((raw) => tokens('BVN', raw)).sort(), n.msisdn).toEqual(
        s.activeBvnTokens,
      );
    });
  });

  it('files only status records that pass the TIRMS checks, dated within the period', () => {
    let count = 0;
    for (const e of events) {
      if (e.kind !== 'status-update') continue;
      count++;
      const check = checkStatusUpdate(e.record);
      if (!check.ok) expect.fail(`${JSON.stringify(e.record)}: ${JSON.stringify(check.problems)}`);
      expect(check.value.msisdn).toBe(e.msisdn);
      expect(check.value.status).toBe(e.value.status);
      expect(e.record.occurrenceOfStatusDate <= END).toBe(true);
      if (e.value.status === 'SWAPPED' || e.value.status === 'CHURNED')
        expect(e.record.reassignmentDate).not.toBeNull();
      if (e.record.reassignmentDate !== null) expect(checkDate(e.record.reassignmentDate).ok).toBe(true);
    }
    expect(count).toBeGreaterThan(N * 0.5);
    const filed = new Set(events.flatMap((e) => (e.kind === 'status-update' ? [e.record.status] : [])));
    expect(filed.has('BARRED')).toBe(true);
  });

  it('encodes every event with the current Avro schema and keeps raw identifiers out of it', () => {
    const types = {
      'status-update': avro.Type.forSchema(currentSchema('status-update') as avro.Schema),
      'nin-linkage': avro.Type.forSchema(currentSchema('nin-linkage') as avro.Schema),
      'bvn-linkage': avro.Type.forSchema(currentSchema('bvn-linkage') as avro.Schema),
      delink: avro.Type.forSchema(currentSchema('delink') as avro.Schema),
    };
    for (const e of events) {
      expect(types[e.kind].isValid(e.value), JSON.stringify(e.value)).toBe(true);
      expect(e.value.occurredAt).toBeLessThan(e.value.receivedAt);
      if (e.kind === 'nin-linkage') {
        expect(e.record.nin).toMatch(/^\d{11}$/);
        expect(JSON.stringify(e.value)).not.toContain(e.record.nin);
        expect(e.value.ninMasked).toBe(`*******${e.record.nin.slice(-4)}`);
      }
      if (e.kind === 'bvn-linkage') {
        expect(e.record.bvn).toMatch(/^\d{11}$/);
        expect(e.record.nuban).toMatch(/^\d{10}$/);
        const json = JSON.stringify(e.value);
        expect(json).not.toContain(e.record.bvn);
        expect(json).not.toContain(e.record.nuban);
        if (e.record.holderNin !== null) expect(json).not.toContain(e.record.holderNin);
      }
    }
  });

  it('writes one file per family in arrival order and the expected state without raw identifiers', async () => {
    const small = generatePopulation({ numbers: 200, seed: 3, tokenSecret: SECRET, endDate: END }, NOW);
    const dir = tempDir();
    const written = await writeSample(small, dir);
    const all = [...eventsOf(small)];
    for (const [kind, name] of Object.entries(SAMPLE_FILES)) {
      const lines = readFileSync(join(dir, name), 'utf8').trimEnd().split('\n');
      const records = all.filter((e) => e.kind === kind).map((e) => JSON.stringify(e.record));
      expect(lines).toEqual(records);
      expect(written.counts[kind as keyof typeof SAMPLE_FILES]).toBe(records.length);
    }
    const expectedText = readFileSync(written.expectedState, 'utf8');
    expect(expectedText.trimEnd().split('\n')).toHaveLength(200);
    for (const nin of small.people.keys()) expect(expectedText).not.toContain(nin);
    const identities = JSON.parse(readFileSync(await identitiesOf(small, dir), 'utf8')) as {
      nins: Record<string, { msisdn: string | null }>;
      bvns: Record<string, { nin: string; accounts: { nuban: string; bankCode: string }[] }>;
    };
    expect(Object.keys(identities.nins)).toHaveLength(small.people.size);
    for (const b of Object.values(identities.bvns)) {
      expect(identities.nins[b.nin]).toBeDefined();
      expect(b.accounts.length).toBeGreaterThan(0);
    }
  });
});

async function identitiesOf(pop: Population, dir: string): Promise<string> {
  const path = join(dir, 'seed', 'identities.json');
  await writeIdentities(pop, path);
  return path;
}
