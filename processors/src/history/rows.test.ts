import type { StateChangeEvent, StatusUpdateEvent } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { toHistoryRow, utcDate } from './rows.ts';

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

describe('toHistoryRow', () => {
  it('maps a status event with its provenance, UTC seconds and dates', () => {
    const result = toHistoryRow('status-update', status, where);
    expect(result).toEqual({
      ok: true,
      value: {
        table: 'status_events_v1',
        row: expect.objectContaining({
          event_id: 'e-1',
          kafka_topic: 'hub.status-updates',
          kafka_partition: 3,
          kafka_offset: '9007199254740993',
          occurred_at: at / 1000,
          occurred_date: '2024-05-31',
          received_date: '2024-06-01',
          occurrence_date: '2024-05-30',
          status: 'CHURNED',
        }),
      },
    });
  });

  it('writes the envelope columns, then the family columns, as one JSONEachRow line', () => {
    const result = toHistoryRow('status-update', status, where);
    expect(result.ok && JSON.stringify(result.value.row)).toBe(
      JSON.stringify({
        event_id: 'e-1',
        source: 'HTTP',
        kafka_topic: 'hub.status-updates',
        kafka_partition: 3,
        kafka_offset: '9007199254740993',
        occurred_at: at / 1000,
        received_at: at / 1000 + 3600,
        occurred_date: '2024-05-31',
        received_date: '2024-06-01',
        msisdn: '2348031234567',
        operator: 'MTN',
        status: 'CHURNED',
        occurrence_date: '2024-05-30',
        reassignment_date: null,
        remarks: null,
        batch_id: null,
      }),
    );
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
    expect(result.ok && result.value.row).toMatchObject({
      version: '4',
      is_recycled: 1,
      conflict_codes: ['STALE_LINKAGE'],
      conflict_since: ['2024-05-30'],
    });
    expect(toHistoryRow('state-change', { ...change, activeNinLinkages: -1 }, where)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^activeNinLinkages -1/),
    });
  });
});
