import { describe, expect, it } from 'vitest';
import { parsePeriod, parseTrendParams, statsQueries, type TrendQuery, trendQuery } from './queries.ts';

const TODAY = '2025-03-31';
const ok = (q: TrendQuery) => {
  const p = parseTrendParams(q, TODAY);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.value;
};
const fields = (q: TrendQuery) => {
  const p = parseTrendParams(q, TODAY);
  return p.ok ? [] : p.errors.map((e) => e.field);
};

describe('trend parameters', () => {
  it('defaults to status events by day over the last 30 days', () => {
    expect(ok({})).toEqual({
      metric: 'status_events',
      granularity: 'day',
      dimension: null,
      from: '2025-03-02',
      to: TODAY,
    });
  });

  // Formats and lists are the route schema's (test/query-api/dashboard-rollups.int.test.ts); the
  // rules across parameters are these.
  it('names the parameter that breaks a rule across parameters', () => {
    expect(fields({ from: '2025-03-10', to: '2025-03-01' })).toEqual(['from']);
  });

  it('refuses a dimension the metric has no column for', () => {
    const p = parseTrendParams({ metric: 'conflicts', dimension: 'operator' }, TODAY);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.errors[0]?.message).toContain('conflict_code');
  });

  it('caps hourly series at 31 days', () => {
    expect(fields({ granularity: 'hour', from: '2025-01-01', to: '2025-01-31' })).toEqual([]);
    expect(fields({ granularity: 'hour', from: '2025-01-01', to: '2025-02-01' })).toEqual(['to']);
  });

  it('leaves a stats period out when neither date is given', () => {
    expect(parsePeriod({}, TODAY, [], 10, true)).toBeNull();
    expect(parsePeriod({ from: '2025-01-01' }, TODAY, [], 400, true)).toEqual({
      from: '2025-01-01',
      to: '2025-01-30',
    });
  });
});

describe('trend SQL', () => {
  it('reads the hourly rollup for hours, with UTC bounds', () => {
    const sql = trendQuery('hub', ok({ granularity: 'hour', from: '2025-01-01', to: '2025-01-02' }));
    expect(sql).toContain('FROM hub.status_events_hourly_v1');
    expect(sql).toContain("hour >= toDateTime('2025-01-01 00:00:00', 'UTC')");
    expect(sql).toContain("hour < toDateTime('2025-01-03 00:00:00', 'UTC')");
  });

  it('buckets weeks by Monday and months by their first day over the daily rollup, merging uniq states', () => {
    const week = trendQuery(
      'hub',
      ok({ granularity: 'week', metric: 'conflicts', dimension: 'conflict_code' }),
    );
    expect(week).toContain('toMonday(day) AS b');
    expect(week).toContain('toString(code) AS k');
    expect(week).toContain('FROM hub.conflicts_daily_v1');
    expect(week).toContain('uniqMerge(events)');
    expect(trendQuery('hub', ok({ granularity: 'month' }))).toContain('toStartOfMonth(day) AS b');
  });

  it('escapes an organisation scope through the shared escaper', () => {
    const sql = trendQuery('hub', ok({ metric: 'verifications' }), { organisation: "Bank' OR 1=1 --" });
    expect(sql).toContain("organisation = 'Bank\\' OR 1=1 --'");
  });

  it('refuses an organisation scope on metrics that have none', () => {
    expect(() => trendQuery('hub', ok({}), { organisation: 'Bank A' })).toThrow(/verifications only/);
  });

  it('builds the lag histogram before averaging, so each event weighs once', () => {
    const sql = trendQuery('hub', ok({ metric: 'reporting_lag', dimension: 'operator' }));
    expect(sql).toContain('uniqMerge(events) AS n');
    expect(sql).toContain('sum(lag_days * n) / sum(n) AS value');
    expect(sql).toContain('FROM hub.reporting_lag_daily_v1');
  });

  it('refuses a database name that is not an identifier', () => {
    expect(() => trendQuery('hub; DROP TABLE x', ok({}))).toThrow(/identifier/);
  });
});

describe('stats SQL', () => {
  it('takes each number’s newest state from the latest-state tables, never the state-change history', () => {
    const q = statsQueries('hub', null);
    expect(q.numbersByLifecycle).toContain('FROM hub.latest_states_v1 FINAL');
    expect(q.conflictsByCode).toContain('FROM hub.latest_conflicts_v1 FINAL');
    expect(q.conflictsByCode).toContain('ARRAY JOIN latest_conflict_codes AS code');
    for (const sql of [q.numbersByLifecycle, q.conflictsByCode])
      expect(sql).not.toContain('state_changes_v1');
    expect(q.statusEvents).not.toContain('WHERE');
  });

  it('scopes verification volumes to one organisation, or hides organisations', () => {
    expect(statsQueries('hub', null, { organisation: 'Bank A' }).verifications).toContain(
      "organisation = 'Bank A'",
    );
    expect(statsQueries('hub', null, { hideOrganisations: true }).verifications).toContain(
      "SELECT '' AS key",
    );
    const ranged = statsQueries('hub', { from: '2025-01-01', to: '2025-01-31' });
    expect(ranged.statusEvents).toContain("day >= toDate('2025-01-01') AND day <= toDate('2025-01-31')");
  });
});
