import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, createDatabase, loadConfig } from '../../infra/src/index.ts';
import { uniqueId } from './helpers.ts';

const config = loadConfig();
const client = createClickHouse(config);
const table = `it_events_${uniqueId()}`;

afterAll(async () => {
  await client.command({ query: `DROP TABLE IF EXISTS ${table}` });
  await client.close();
});

interface Row {
  event_id: string;
  msisdn: string;
  status: string;
  occurred_at: string;
}

describe('clickhouse', () => {
  it('creates a table, inserts JSONEachRow and reads it back (SQL valid on 18.16 and current)', async () => {
    await createDatabase(config);
    await client.command({
      query: `CREATE TABLE ${table} (
        event_id String,
        msisdn String,
        status Enum8('NORMAL' = 1, 'CHURNED' = 2, 'SWAPPED' = 3),
        occurred_at DateTime,
        day Date DEFAULT toDate(occurred_at)
      ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(day) ORDER BY (msisdn, event_id)`,
    });
    const rows: Row[] = [
      { event_id: 'e1', msisdn: '2348012345678', status: 'CHURNED', occurred_at: '2024-05-01 10:00:00' },
      { event_id: 'e2', msisdn: '2348012345678', status: 'NORMAL', occurred_at: '2024-05-02 10:00:00' },
      { event_id: 'e3', msisdn: '2347012345678', status: 'SWAPPED', occurred_at: '2024-06-01 09:30:00' },
      { event_id: 'e3', msisdn: '2347012345678', status: 'SWAPPED', occurred_at: '2024-06-01 09:30:00' },
    ];
    await client.insert({ table, values: rows, format: 'JSONEachRow' });

    const result = await client.query({
      query: `SELECT status, uniqExact(event_id) AS events FROM ${table} GROUP BY status ORDER BY status`,
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([
      { status: 'NORMAL', events: '1' },
      { status: 'CHURNED', events: '1' },
      { status: 'SWAPPED', events: '1' },
    ]);

    const latest = await client.query({
      query: `SELECT msisdn, argMax(status, occurred_at) AS status FROM ${table} GROUP BY msisdn ORDER BY msisdn`,
      format: 'JSONEachRow',
    });
    expect(await latest.json()).toEqual([
      { msisdn: '2347012345678', status: 'SWAPPED' },
      { msisdn: '2348012345678', status: 'NORMAL' },
    ]);
  });

  it('talks to the configured database', async () => {
    const result = await client.query({ query: 'SELECT currentDatabase() AS db', format: 'JSONEachRow' });
    expect(await result.json()).toEqual([{ db: config.CLICKHOUSE_DATABASE }]);
  });
});
