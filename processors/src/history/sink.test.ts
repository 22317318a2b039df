import { describe, expect, it } from 'vitest';
import { rawMaxOffsetsQuery, resumePoint, watermarksQuery } from './sink.ts';

describe('history sink resume points', () => {
  it('are read from the watermark table, per raw table, topic and partition', () => {
    const sql = watermarksQuery('hub', [
      { table: 'status_events_v1', topic: 'hub.status-updates', partitions: [0, 1] },
      { table: 'state_changes_v1', topic: 'hub.state-changes', partitions: [5] },
    ]);
    expect(sql).toContain('FROM `hub`.sink_watermarks_v1');
    expect(sql).toContain(
      "(raw_table = 'status_events_v1' AND kafka_topic = 'hub.status-updates' AND kafka_partition IN (0, 1))",
    );
    expect(sql).toContain(
      " OR (raw_table = 'state_changes_v1' AND kafka_topic = 'hub.state-changes' AND kafka_partition IN (5))",
    );
    expect(sql).not.toContain('status_events_v1.');
    expect(sql).toContain('max(max_offset)');
  });

  it('escape topic names and refuse partitions that are not integers', () => {
    expect(watermarksQuery('hub', [{ table: 't_v1', topic: "x' OR 1=1 --", partitions: [0] }])).toContain(
      "kafka_topic = 'x\\' OR 1=1 --'",
    );
    expect(() => watermarksQuery('hub', [{ table: 't_v1', topic: 'x', partitions: [-1] }])).toThrow(
      /non-negative integer/,
    );
    expect(() => watermarksQuery('hub', [])).toThrow(/at least one partition/);
  });

  it('fall back to the raw table only for a table without a watermark view', () => {
    const sql = rawMaxOffsetsQuery('hub', {
      table: 'delink_events_v2',
      topic: 'hub.delink',
      partitions: [2],
    });
    expect(sql).toContain('FROM `hub`.`delink_events_v2`');
    expect(sql).toContain('count() AS n');
  });
});

describe('history sink resume point', () => {
  it('is just after the highest stored offset, or the earliest offset Kafka keeps', () => {
    expect(resumePoint(41n, 0n, -1n).next).toBe(42n);
    expect(resumePoint(undefined, 7n, -1n).next).toBe(7n);
    expect(resumePoint(3n, 10n, -1n).next).toBe(10n);
  });

  it('needs no seek where the consumer starts by itself: its committed offset, or the earliest without one', () => {
    expect(resumePoint(41n, 0n, 42n).seek).toBe(false);
    expect(resumePoint(undefined, 0n, -1n).seek).toBe(false);
    expect(resumePoint(undefined, 5n, -1n).seek).toBe(false);
  });

  it('seeks when the committed offset is elsewhere or ClickHouse holds something the group never committed', () => {
    // The insert landed but the commit did not: skip what ClickHouse has.
    expect(resumePoint(41n, 0n, 30n)).toEqual({ next: 42n, seek: true });
    // ClickHouse was dropped for a rebuild: go back to the beginning.
    expect(resumePoint(undefined, 0n, 42n)).toEqual({ next: 0n, seek: true });
    // A fresh group over a table that holds rows.
    expect(resumePoint(41n, 0n, -1n)).toEqual({ next: 42n, seek: true });
  });
});
