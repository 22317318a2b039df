import { describe, expect, it } from 'vitest';
import {
  checkDelinkEvent,
  checkEventDate,
  checkNinLinkageEvent,
  checkStatusUpdateEvent,
  EVENT_DATE_MAX,
  EVENT_DATE_MIN,
  EVENT_TIME_MAX_MS,
  EVENT_TIME_MIN_MS,
} from './contract.ts';
import { todayInLagos } from './dates.ts';
import type { DelinkEvent, NinLinkageEvent, StatusUpdateEvent } from './events.ts';

const envelope = {
  eventId: 'e1',
  source: 'KAFKA',
  occurredAt: Date.UTC(2025, 0, 1),
  receivedAt: Date.UTC(2025, 0, 1),
};
const status: StatusUpdateEvent = {
  ...envelope,
  operator: 'MTN',
  msisdn: '2348031234567',
  status: 'NORMAL',
  occurrenceDate: '2025-01-01',
  reassignmentDate: null,
  remarks: null,
  batchId: null,
};
const nin: NinLinkageEvent = {
  ...envelope,
  msisdn: '2348031234567',
  action: 'LINK',
  ninToken: '0123456789abcdef',
  ninMasked: '*******1234',
  linkDate: '2025-01-01',
};
const delink: DelinkEvent = {
  ...envelope,
  requestId: 'r1',
  msisdn: '2348031234567',
  action: 'COMPLETED',
  scope: 'ALL',
  actor: 'admin',
  reason: null,
};

describe('the validation contract', () => {
  it('accepts dates from 1990-01-01 to 2105-12-31 and names the range otherwise', () => {
    expect(checkEventDate(EVENT_DATE_MIN)).toEqual({ ok: true, date: EVENT_DATE_MIN });
    expect(checkEventDate(EVENT_DATE_MAX)).toEqual({ ok: true, date: EVENT_DATE_MAX });
    expect(checkEventDate('1989-12-31')).toEqual({
      ok: false,
      reason: "'1989-12-31' is outside the supported range 1990-01-01..2105-12-31",
    });
    expect(checkEventDate('2106-01-01').ok).toBe(false);
    expect(checkEventDate('2024-02-30')).toEqual({
      ok: false,
      reason: "'2024-02-30' is not a real calendar date",
    });
  });

  it('names the event field it refuses', () => {
    expect(checkStatusUpdateEvent(status)).toBeNull();
    expect(checkStatusUpdateEvent({ ...status, occurrenceDate: '1950-03-01' })?.field).toBe('occurrenceDate');
    expect(checkStatusUpdateEvent({ ...status, reassignmentDate: '2200-01-01' })?.field).toBe(
      'reassignmentDate',
    );
    expect(checkStatusUpdateEvent({ ...status, operator: '' })).toEqual({
      field: 'operator',
      message: 'must be a non-empty string',
    });
    expect(checkStatusUpdateEvent({ ...status, remarks: 'x'.repeat(501) })?.field).toBe('remarks');
    expect(checkStatusUpdateEvent({ ...status, remarks: '' })).toBeNull();
    expect(checkStatusUpdateEvent({ ...status, receivedAt: -1 })?.field).toBe('receivedAt');
    expect(checkStatusUpdateEvent({ ...status, eventId: '' })?.field).toBe('eventId');
    expect(checkNinLinkageEvent(nin)).toBeNull();
    expect(checkNinLinkageEvent({ ...nin, ninMasked: '12345678901' })?.field).toBe('ninMasked');
    expect(checkNinLinkageEvent({ ...nin, action: 'DELETE' as 'LINK' })?.field).toBe('action');
  });

  it('keeps event times within the date range on the Lagos calendar', () => {
    expect(todayInLagos(EVENT_TIME_MIN_MS)).toBe(EVENT_DATE_MIN);
    expect(todayInLagos(EVENT_TIME_MAX_MS)).toBe(EVENT_DATE_MAX);
    expect(checkDelinkEvent({ ...delink, occurredAt: EVENT_TIME_MAX_MS })).toBeNull();
    expect(checkDelinkEvent({ ...delink, occurredAt: EVENT_TIME_MAX_MS + 1 })?.field).toBe('occurredAt');
    expect(checkDelinkEvent({ ...delink, occurredAt: EVENT_TIME_MIN_MS - 1 })?.field).toBe('occurredAt');
    expect(checkDelinkEvent({ ...delink, scope: 'EVERYTHING' as 'ALL' })?.field).toBe('scope');
  });
});
