import { type ClickHouseClient, type ClickHouseClientConfigOptions, createClient } from '@clickhouse/client';
import type { Config } from '../config.ts';

type ClickHouseConfig = Pick<
  Config,
  'CLICKHOUSE_URL' | 'CLICKHOUSE_READ_URL' | 'CLICKHOUSE_DATABASE' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD'
>;

export interface ClickHouseOptions {
  /** Use the read replica (CLICKHOUSE_READ_URL) when one is configured. */
  read?: boolean;
  /** Overrides CLICKHOUSE_DATABASE, e.g. `default` to create the hub's database. */
  database?: string;
  requestTimeoutMs?: number;
  overrides?: Omit<ClickHouseClientConfigOptions, 'url' | 'database' | 'username' | 'password'>;
}

/**
 * ClickHouse here may be 18.16 (Debian): it has no server-side query
 * parameters, so never pass `query_params`; values reach SQL through one
 * escaping function instead.
 */
export function createClickHouse(
  config: ClickHouseConfig,
  options: ClickHouseOptions = {},
): ClickHouseClient {
  const url = options.read && config.CLICKHOUSE_READ_URL ? config.CLICKHOUSE_READ_URL : config.CLICKHOUSE_URL;
  return createClient({
    ...options.overrides,
    url,
    database: options.database ?? config.CLICKHOUSE_DATABASE,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    request_timeout: options.requestTimeoutMs ?? 30_000,
  });
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`Not a plain ClickHouse identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** Creates the configured database (connecting through `default`, which always exists). */
export async function createDatabase(
  config: ClickHouseConfig,
  name = config.CLICKHOUSE_DATABASE,
): Promise<void> {
  const client = createClickHouse(config, { database: 'default' });
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(name)}` });
  } finally {
    await client.close();
  }
}
