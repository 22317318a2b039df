import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDate, type EventTypes, type StateChangeEvent, type StatusUpdateEvent } from '@hub/schemas';
import { type HistoryKind, RAW_TABLES } from '@hub/state/history/tables';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from './migrate.ts';
import { HISTORY_COLUMNS, type RowResult, toHistoryRow, utcDate } from './rows.ts';

const at = Date.UTC(2024, 4, 31, 23, 30, 0);
const status: StatusUpdateEvent = {
  eventId: 'e-1',
  source: 'HTTP',
  occurredAt: at,
  receivedAt: at + 3_600_000,
  operator: 'MTN',
  msisdn: '2348031234567',
  status: 'CHURNED',
  occurrenceDate: '2024-05-30',
  reassignmentDate: null,
  remarks: null,
  batchId: null,
};
const where = { topic: 'hub.status-updates', partition: 3, offset: '9007199254740993' };

/** The row's fields by column name, as ClickHouse splits its line (the fields still escaped). */
function fieldsOf(result: RowResult): Record<string, string> {
  if (!result.ok) throw new Error(result.reason);
  const { table, line } = result.value;
  expect(line).not.toMatch(/[\n\r]/);
  const fields = line.split('\t');
  const columns = HISTORY_COLUMNS[table];
  expect(fields).toHaveLength(columns.length);
  return Object.fromEntries(columns.map((c, i) => [c, fields[i]!]));
}

describe('toHistoryRow', () => {
  it('maps a status event with its provenance, UTC times and dates', () => {
    const result = toHistoryRow('status-update', status, where);
    expect(result.ok && result.value.table).toBe('status_events_v1');
    expect(result.ok && result.value.msisdn).toBe('2348031234567');
    expect(fieldsOf(result)).toMatchObject({
      event_id: 'e-1',
      kafka_topic: 'hub.status-updates',
      kafka_partition: '3',
      kafka_offset: '9007199254740993',
      occurred_at: '2024-05-31 23:30:00',
      received_at: '2024-06-01 00:30:00',
      occurred_date: '2024-05-31',
      received_date: '2024-06-01',
      occurrence_date: '2024-05-30',
      status: 'CHURNED',
    });
  });

  it('writes the envelope columns, then the family columns, as one TabSeparated line', () => {
    expect(HISTORY_COLUMNS.status_events_v1).toEqual([
      'event_id',
      'source',
      'kafka_topic',
      'kafka_partition',
      'kafka_offset',
      'occurred_at',
      'received_at',
      'occurred_date',
      'received_date',
      'msisdn',
      'operator',
      'status',
      'occurrence_date',
      'reassignment_date',
      'remarks',
      'batch_id',
    ]);
    const result = toHistoryRow('status-update', status, where);
    expect(result.ok && result.value.line).toBe(
      [
        'e-1',
        'HTTP',
        'hub.status-updates',
        '3',
        '9007199254740993',
        '2024-05-31 23:30:00',
        '2024-06-01 00:30:00',
        '2024-05-31',
        '2024-06-01',
        '2348031234567',
        'MTN',
        'CHURNED',
        '2024-05-30',
        '\\N',
        '\\N',
        '\\N',
      ].join('\t'),
    );
  });

  it('escapes odd strings in every string column and keeps NULL apart from the text \\N', () => {
    const odd = 'o\'k "q" \t tab \n nl \r cr \\ bs \\N Ọ̀nà 🙂';
    const escaped = 'o\'k "q" \\t tab \\n nl \\r cr \\\\ bs \\\\N Ọ̀nà 🙂';
    const result = toHistoryRow(
      'status-update',
      { ...status, eventId: odd, source: odd, operator: odd, msisdn: odd, remarks: odd, batchId: '' },
      { ...where, topic: odd },
    );
    expect(fieldsOf(result)).toMatchObject({
      event_id: escaped,
      source: escaped,
      kafka_topic: escaped,
      msisdn: escaped,
      operator: escaped,
      remarks: escaped,
      batch_id: '',
    });
  });

  it('dates a time by its UTC day, the same as toISOString, at the edges of days and of the range', () => {
    const max = Math.floor(Date.UTC(2105, 11, 31, 23, 59, 59) / 1000);
    const times = [0, 86_399, 86_400, 951_782_399, 951_782_400, at / 1000, at / 1000 + 1800, max];
    for (let i = 0; i < 2; i++) {
      for (const s of times) expect(utcDate(s)).toBe(new Date(s * 1000).toISOString().slice(0, 10));
    }
    expect(utcDate(951_782_400)).toBe('2000-02-29');
  });

  it('refuses dates and times ClickHouse cannot store, naming the field', () => {
    expect(toHistoryRow('status-update', { ...status, occurrenceDate: '1965-01-01' }, where)).toEqual({
      ok: false,
      reason: "occurrenceDate '1965-01-01' is outside the storable range 1970-01-01..2105-12-31",
    });
    expect(toHistoryRow('status-update', { ...status, reassignmentDate: '2024-02-30' }, where)).toMatchObject(
      {
        ok: false,
        reason: expect.stringMatching(/^reassignmentDate .*not a real calendar date/),
      },
    );
    expect(toHistoryRow('status-update', { ...status, occurredAt: -5 }, where)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^occurredAt -5 /),
    });
    expect(toHistoryRow('status-update', { ...status, eventId: '' }, where)).toEqual({
      ok: false,
      reason: 'eventId is empty',
    });
  });

  it('splits state-change conflicts into parallel code and since arrays', () => {
    const change: StateChangeEvent = {
      eventId: 's-1',
      source: 'PROCESSOR',
      occurredAt: at,
      receivedAt: at,
      msisdn: '2348031234567',
      version: 4,
      operator: 'MTN',
      telecomStatus: 'CHURNED',
      statusDate: '2024-05-30',
      reassignmentDate: null,
      lastSwappedDate: null,
      lastChurnedDate: '2024-05-30',
      lastReassignedDate: null,
      lifecycleStatus: 'RECYCLED',
      isRecycled: true,
      activeNinLinkages: 1,
      activeBvnLinkages: 0,
      cleanupStatus: 'pending',
      canAssignToNewUser: false,
      conflicts: [{ code: 'STALE_LINKAGE', since: '2024-05-30' }],
      causeTopic: 'hub.status-updates',
      causeEventId: 'e-1',
    };
    const result = toHistoryRow('state-change', change, where);
    expect(fieldsOf(result)).toMatchObject({
      version: '4',
      is_recycled: '1',
      can_assign_to_new_user: '0',
      conflict_codes: "['STALE_LINKAGE']",
      conflict_since: "['2024-05-30']",
    });
    expect(fieldsOf(toHistoryRow('state-change', { ...change, conflicts: [] }, where))).toMatchObject({
      conflict_codes: '[]',
      conflict_since: '[]',
    });
    expect(
      fieldsOf(
        toHistoryRow(
          'state-change',
          {
            ...change,
            conflicts: [
              { code: "o'k\\", since: '1970-01-01' },
              { code: 'a\tb', since: '2105-12-31' },
            ],
          },
          where,
        ),
      ),
    ).toMatchObject({
      conflict_codes: "['o\\'k\\\\','a\\tb']",
      conflict_since: "['1970-01-01','2105-12-31']",
    });
    expect(
      toHistoryRow('state-change', { ...change, conflicts: [{ code: 'X', since: '2024-02-30' }] }, where),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^conflicts\[0\]\.since .*not a real calendar date/),
    });
    expect(toHistoryRow('state-change', { ...change, activeNinLinkages: -1 }, where)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^activeNinLinkages -1/),
    });
  });
});

/** Every column of each raw table's newest CREATE TABLE in the migrations, by table. */
function migratedColumns(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    if (!file.endsWith('.sql')) continue;
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    for (const m of sql.matchAll(
      /CREATE TABLE IF NOT EXISTS \{\{database\}\}\.(\w+)\s*\(\n([\s\S]*?)\n\)/g,
    )) {
      const columns = m[2]!
        .split('\n')
        .map((line) => /^\s{4}(\w+)\s/.exec(line)?.[1])
        .filter((c): c is string => c !== undefined);
      out.set(m[1]!, columns);
    }
  }
  return out;
}

const at2 = Date.UTC(2024, 1, 29, 12, 0, 0);
const envelope = { eventId: 'x-1', source: 'HTTP', occurredAt: at2, receivedAt: at2 };
/** One event of every family, every optional and nullable value set. */
const SAMPLES: { [K in HistoryKind]: EventTypes[K] } = {
  'status-update': { ...status, remarks: 'r', batchId: 'b', reassignmentDate: '2024-06-01' },
  'nin-linkage': {
    ...envelope,
    msisdn: 'm',
    action: 'LINK',
    ninToken: 't',
    ninMasked: 'k',
    linkDate: '2024-01-01',
  },
  'bvn-linkage': {
    ...envelope,
    msisdn: 'm',
    action: 'UNLINK',
    bvnToken: 't',
    bvnMasked: 'k',
    holderNinToken: 'h',
    nubanToken: 'n',
    nubanMasked: 'nm',
    bankCode: '058',
    linkDate: '2024-01-01',
  },
  delink: {
    ...envelope,
    requestId: 'q',
    msisdn: 'm',
    action: 'FAILED',
    scope: 'NIN',
    actor: 'a',
    reason: 'r',
    linkages: [{ kind: 'NIN', token: 't', masked: 'k', linkDate: '2024-01-01' }],
    attempt: 4_294_967_295,
    linkageId: 'l',
    outcome: 'o',
    idempotencyKey: 'i',
    operator: 'MTN',
  },
  'recycled-sim': {
    ...envelope,
    simId: 's',
    msisdn: 'm',
    action: 'DETECTED',
    recycleDate: '2024-01-01',
    operator: 'GLO',
    cleanupStatus: 'c',
    linkages: [],
    actor: 'a',
    reason: 'r',
  },
  verification: {
    ...envelope,
    requestId: 'q',
    organisation: 'o',
    msisdn: 'm',
    channel: 'BULK',
    verificationStatus: 'VERIFIED',
    telecomStatus: 'NORMAL',
    lifecycleStatus: 'ACTIVE',
    customer: 'c',
  },
  'state-change': {
    ...envelope,
    msisdn: 'm',
    version: Number.MAX_SAFE_INTEGER,
    operator: 'MTN',
    telecomStatus: 'NORMAL',
    statusDate: '2024-01-01',
    reassignmentDate: '2024-01-02',
    lastSwappedDate: '2024-01-03',
    lastChurnedDate: '2024-01-04',
    lastReassignedDate: '2024-01-05',
    lifecycleStatus: 'ACTIVE',
    isRecycled: false,
    activeNinLinkages: 4_294_967_295,
    activeBvnLinkages: 0,
    cleanupStatus: 'none',
    canAssignToNewUser: true,
    conflicts: [{ code: 'C', since: '2024-01-06' }],
    causeTopic: 'hub.status-updates',
    causeEventId: 'e-1',
  },
  audit: {
    ...envelope,
    actor: 'a',
    organisation: 'o',
    action: 'x',
    target: 't',
    outcome: 'DENIED',
    details: '{}',
    requestId: 'q',
    ip: '127.0.0.1',
  },
};

describe('history row columns', () => {
  it('are every column of each raw table but inserted_at, each filled by one field of the line', () => {
    const tables = migratedColumns();
    for (const kind of Object.keys(RAW_TABLES) as HistoryKind[]) {
      const table = RAW_TABLES[kind];
      const columns = HISTORY_COLUMNS[table];
      expect([...columns].sort(), table).toEqual(
        tables
          .get(table)!
          .filter((c) => c !== 'inserted_at')
          .sort(),
      );
      const fields = fieldsOf(toHistoryRow(kind, SAMPLES[kind], where));
      // The sample sets every value: no field is NULL or empty.
      for (const c of columns) expect(fields[c], `${table}.${c}`).not.toMatch(/^(\\N)?$/);
    }
  });

  it('write each value type as ClickHouse reads it', () => {
    expect(fieldsOf(toHistoryRow('state-change', SAMPLES['state-change'], where))).toEqual({
      event_id: 'x-1',
      source: 'HTTP',
      kafka_topic: 'hub.status-updates',
      kafka_partition: '3',
      kafka_offset: '9007199254740993',
      occurred_at: '2024-02-29 12:00:00',
      received_at: '2024-02-29 12:00:00',
      occurred_date: '2024-02-29',
      received_date: '2024-02-29',
      msisdn: 'm',
      version: '9007199254740991',
      operator: 'MTN',
      telecom_status: 'NORMAL',
      status_date: '2024-01-01',
      reassignment_date: '2024-01-02',
      last_swapped_date: '2024-01-03',
      last_churned_date: '2024-01-04',
      last_reassigned_date: '2024-01-05',
      lifecycle_status: 'ACTIVE',
      is_recycled: '0',
      active_nin_linkages: '4294967295',
      active_bvn_linkages: '0',
      cleanup_status: 'none',
      can_assign_to_new_user: '1',
      conflict_codes: "['C']",
      conflict_since: "['2024-01-06']",
      cause_topic: 'hub.status-updates',
      cause_event_id: 'e-1',
    });
    expect(fieldsOf(toHistoryRow('delink', SAMPLES.delink, where))).toMatchObject({
      attempt: '4294967295',
      linkage_count: '1',
    });
    // A v1 delink event has none of the v2 fields: NULLs, attempt 0 and no linkages.
    const { linkages, attempt, linkageId, outcome, idempotencyKey, operator, ...v1 } = SAMPLES.delink;
    expect(fieldsOf(toHistoryRow('delink', v1, where))).toMatchObject({
      attempt: '0',
      linkage_id: '\\N',
      outcome: '\\N',
      idempotency_key: '\\N',
      operator: '\\N',
      linkage_count: '0',
    });
    // No customer is the empty string (the column is not Nullable).
    expect(
      fieldsOf(toHistoryRow('verification', { ...SAMPLES.verification, customer: null }, where)),
    ).toMatchObject({ customer: '' });
    expect(toHistoryRow('audit', SAMPLES.audit, where)).toMatchObject({ ok: true, value: { msisdn: null } });
  });

  it('accept exactly the dates checkDate accepts within 1970-01-01..2105-12-31', () => {
    const candidates = [
      '1969-12-31',
      '1970-01-01',
      '2105-12-31',
      '2106-01-01',
      '1900-02-29',
      '2000-02-29',
      '2100-02-29',
      '2104-02-29',
      '2023-02-29',
      '2024-02-30',
      '2024-04-31',
      '2024-13-01',
      '2024-00-10',
      '2024-01-00',
      '2024-1-01',
      ' 2024-01-01',
      '2024-01-01\n',
      '2024/01/01',
      '２０２４-01-01',
      '2024-0a-01',
      '',
    ];
    for (const year of [1970, 1999, 2000, 2024, 2100, 2105]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 27; day <= 32; day++) {
          candidates.push(`${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);
        }
      }
    }
    for (const d of candidates) {
      const storable = checkDate(d).ok && d >= '1970-01-01' && d <= '2105-12-31';
      const result = toHistoryRow('nin-linkage', { ...SAMPLES['nin-linkage'], linkDate: d }, where);
      expect(result.ok, JSON.stringify(d)).toBe(storable);
      if (storable) expect(fieldsOf(result).link_date).toBe(d);
    }
  });
});
