import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicNames } from '@hub/infra';
import { checkStatusUpdate, dateToDays, daysToDate, todayInLagos } from '@hub/schemas';
import { validate } from '@hub/state/machine';
import { mulberry32 } from '@hub/state/random';
import { describe, expect, it } from 'vitest';
import { checkFeedRecord } from './feeds.ts';
import { ingestFile } from './file-ingest.ts';
import type { Publisher } from './publisher.ts';
import { statusEventProblem, toStatusEvent } from './status-events.ts';

/**
 * What ingest acknowledges, the state machine applies: HTTP, file and feed records go through the
 * one validation contract (schemas/src/contract.ts) that the state machine applies, so an accepted
 * record can never be dead-lettered downstream for its content.
 */

const NOW = Date.parse('2025-06-30T12:00:00Z');
const SECRET = 'test-secret-0123456789abcdef';

function randomDate(r: () => number): string {
  // 1900..2200: well past the contract's range on both sides.
  return daysToDate(dateToDays('1900-01-01') + Math.floor(r() * 300 * 365));
}

describe('one validation contract for ingest and the state machine', () => {
  it('every status update ingest accepts is one the state machine applies (and it refuses the rest at the door)', () => {
    const r = mulberry32(11);
    const statuses = ['NORMAL', 'CHURNED', 'SWAPPED', 'BARRED', 'BLACKLISTED', 'REASSIGNED'];
    let accepted = 0;
    let refusedForRange = 0;
    for (let i = 0; i < 3000; i++) {
      const occurrence = randomDate(r);
      const record = {
        status: statuses[Math.floor(r() * statuses.length)],
        phoneNumber: '08031234567',
        occurrenceOfStatusDate:
          r() < 0.3 ? occurrence.replace(/^\d{4}/, String(1980 + Math.floor(r() * 46))) : occurrence,
        reassignmentDate: r() < 0.2 ? null : randomDate(r),
        remarks: r() < 0.5 ? null : 'x'.repeat(Math.floor(r() * 600)),
      };
      const check = checkStatusUpdate(record);
      if (!check.ok) {
        const dates = check.problems.filter((p) => /outside the supported range/.test(p.message));
        for (const p of dates) expect(['occurrenceOfStatusDate', 'reassignmentDate']).toContain(p.field);
        if (dates.length > 0) refusedForRange++;
        continue;
      }
      const event = toStatusEvent(check.value, 'MTN', 'HTTP', NOW, null);
      expect(statusEventProblem(event), JSON.stringify(record)).toBeNull();
      expect(validate({ input: 'status', event }), JSON.stringify(record)).toBeNull();
      accepted++;
    }
    expect(accepted).toBeGreaterThan(200);
    expect(refusedForRange).toBeGreaterThan(200);
  });

  it('refuses the TIRMS update dated 1950-03-01 with the field named, which used to be acknowledged then dead-lettered', () => {
    const check = checkStatusUpdate({
      status: 'NORMAL',
      phoneNumber: '08031234567',
      occurrenceOfStatusDate: '1950-03-01',
    });
    expect(check).toEqual({
      ok: false,
      problems: [
        {
          field: 'occurrenceOfStatusDate',
          message: "'1950-03-01' is outside the supported range 1990-01-01..2105-12-31",
        },
      ],
    });
  });

  it('refuses an operator the state machine would not store, naming it', () => {
    const check = checkStatusUpdate({
      status: 'NORMAL',
      phoneNumber: '08031234567',
      occurrenceOfStatusDate: '2025-01-01',
    });
    if (!check.ok) throw new Error('valid record refused');
    const event = toStatusEvent(check.value, 'O'.repeat(65), 'FILE', NOW, null);
    expect(statusEventProblem(event)).toEqual({ field: 'operator', message: 'is longer than 64 characters' });
    expect(validate({ input: 'status', event })).toBe('operator is longer than 64 characters');
  });

  it('every identity-feed record ingest accepts is one the state machine applies', () => {
    const r = mulberry32(12);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const source = r() < 0.5 ? 'NIMC' : 'NIBSS';
      const digits = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');
      const record = {
        msisdn: '08031234567',
        action: r() < 0.8 ? 'LINK' : 'UNLINK',
        ...(source === 'NIMC'
          ? { nin: digits(11) }
          : { bvn: digits(11), holderNin: r() < 0.5 ? digits(11) : null }),
        nuban: source === 'NIBSS' && r() < 0.5 ? digits(10) : undefined,
        bankCode: source === 'NIBSS' && r() < 0.5 ? digits(3) : undefined,
        date: r() < 0.5 ? randomDate(r) : daysToDate(dateToDays('1985-01-01') + Math.floor(r() * 15000)),
      };
      const check = checkFeedRecord(source, record, SECRET, 'WEBHOOK', NOW);
      if (!check.ok) {
        if (record.date < '1990-01-01')
          expect(check.problems).toContainEqual({
            field: 'date',
            message: `'${record.date}' is outside the supported range 1990-01-01..2105-12-31`,
          });
        refused++;
        continue;
      }
      expect(record.date >= '1990-01-01' && record.date <= todayInLagos(NOW)).toBe(true);
      const ev =
        check.event.kind === 'nin-linkage'
          ? validate({ input: 'nin', event: check.event.value })
          : validate({ input: 'bvn', event: check.event.value });
      expect(ev, JSON.stringify(record)).toBeNull();
      accepted++;
    }
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it('file ingest reports the rows outside the contract, naming the field, and publishes only the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'contract-'));
    const file = join(dir, 'status.ndjson');
    const reportFile = join(dir, 'rejected.ndjson');
    writeFileSync(
      file,
      [
        { status: 'NORMAL', phoneNumber: '08031234567', occurrenceOfStatusDate: '1950-03-01' },
        {
          status: 'NORMAL',
          phoneNumber: '08031234568',
          occurrenceOfStatusDate: '2025-01-01',
          operator: 'X'.repeat(70),
        },
        { status: 'NORMAL', phoneNumber: '08031234569', occurrenceOfStatusDate: '2025-01-01' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const published: unknown[] = [];
    const publisher = {
      async publish(_kind: string, _topic: string, events: unknown[]) {
        published.push(...events);
      },
    } as unknown as Publisher;
    const result = await ingestFile({
      file,
      kind: 'status',
      operator: null,
      reportFile,
      batchId: 'b1',
      tokenSecret: SECRET,
      topics: topicNames('test.'),
      publisher,
      now: () => NOW,
    });
    expect(result).toMatchObject({ rows: 3, accepted: 1, rejected: 2 });
    expect(published).toHaveLength(1);
    const report = readFileSync(reportFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; field: string; reason: string });
    expect(report.map((r) => [r.line, r.field])).toEqual([
      [1, 'occurrenceOfStatusDate'],
      [2, 'operator'],
    ]);
    expect(report[0]?.reason).toContain('outside the supported range 1990-01-01..2105-12-31');
    expect(report[1]?.reason).toBe('operator: is longer than 64 characters');
  });
});
