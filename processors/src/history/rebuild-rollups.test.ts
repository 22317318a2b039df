import { describe, expect, it } from 'vitest';
import { parseViewDefinition } from './rebuild-rollups.ts';

describe('parseViewDefinition', () => {
  it('reads target and SELECT from an 18.16-style one-line definition', () => {
    const q =
      'CREATE MATERIALIZED VIEW db.conflicts_daily_mv_v1 TO db.conflicts_daily_v1 ( day Date,  code String,  events AggregateFunction(uniq, String)) AS SELECT occurred_date AS day, code, uniqState(event_id) AS events FROM db.state_changes_v1  ARRAY JOIN conflict_codes AS code GROUP BY day, code';
    expect(parseViewDefinition(q)).toEqual({
      view: 'db.conflicts_daily_mv_v1',
      target: 'db.conflicts_daily_v1',
      select:
        'SELECT occurred_date AS day, code, uniqState(event_id) AS events FROM db.state_changes_v1  ARRAY JOIN conflict_codes AS code GROUP BY day, code',
    });
  });

  it('reads a current-release multi-line definition with quoted names', () => {
    const q =
      'CREATE MATERIALIZED VIEW db.v TO db.t\n(\n    `day` Date\n)\nAS SELECT occurred_date AS day\nFROM db.r';
    expect(parseViewDefinition(q)).toMatchObject({
      target: 'db.t',
      select: 'SELECT occurred_date AS day\nFROM db.r',
    });
  });

  it('refuses anything that is not a view with a TO table', () => {
    expect(() => parseViewDefinition('CREATE TABLE db.t (x UInt8) ENGINE = Log')).toThrow(
      /not a 'CREATE MATERIALIZED VIEW/,
    );
  });
});
