import { describe, expect, it } from 'vitest';
import { ConfigError, configVariables, DEV_JWT_SECRET, DEV_TOKEN_SECRET, loadConfig } from './config.ts';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`);
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('gives local defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
    expect(config.KAFKA_PARTITIONS).toBe(6);
    expect(config.TOPIC_PREFIX).toBe('hub.');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:16379');
    expect(config.CLICKHOUSE_URL).toBe('http://127.0.0.1:18123');
    expect(config.CLICKHOUSE_READ_URL).toBeUndefined();
    expect(config.CLICKHOUSE_PASSWORD).toBe('');
    expect(config.PORT).toBe(8080);
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.NODE_ENV).toBe('development');
    expect(config.TOKEN_SECRET).toBe(DEV_TOKEN_SECRET);
    expect(config.JWT_SECRET).toBe(DEV_JWT_SECRET);
    expect(config.HUB_DATA_DIR).toMatch(/\.data$/);
  });

  it('splits a comma list of brokers and coerces numbers', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093 ,', KAFKA_PARTITIONS: '12', PORT: '0' });
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(config.KAFKA_PARTITIONS).toBe(12);
    expect(config.PORT).toBe(0);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ KAFKA_PARTITIONS: '', LOG_LEVEL: '' }).KAFKA_PARTITIONS).toBe(6);
  });

  it('lists every bad variable in one error, each with its reason', () => {
    const problems = problemsOf({
      KAFKA_PARTITIONS: '0',
      PORT: 'eighty',
      LOG_LEVEL: 'verbose',
      REDIS_URL: 'http://127.0.0.1:6379',
      KAFKA_BROKERS: 'localhost',
      CLICKHOUSE_READ_URL: 'not a url',
      TOKEN_SECRET: 'short',
    });
    expect(problems).toHaveLength(7);
    expect(problems).toEqual(
      expect.arrayContaining([
        'KAFKA_PARTITIONS: must be at least 1',
        'PORT: must be an integer, got "eighty"',
        'LOG_LEVEL: must be one of debug, info, warn, error, got "verbose"',
        'REDIS_URL: must be a redis(s) URL, got "http://127.0.0.1:6379"',
        'KAFKA_BROKERS: "localhost" is not host:port',
        'CLICKHOUSE_READ_URL: must be a http(s) URL, got "not a url"',
        'TOKEN_SECRET: must be at least 32 characters',
      ]),
    );
  });

  it('puts every problem in the error message', () => {
    expect(() => loadConfig({ KAFKA_PARTITIONS: 'x', NODE_ENV: 'staging' })).toThrowError(
      /2 problems[\s\S]*KAFKA_PARTITIONS: must be an integer[\s\S]*NODE_ENV: must be one of/,
    );
  });

  it('requires every secret in production and never uses the development values there', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'NIBSS_USERNAME: is required when NODE_ENV=production',
      'NIBSS_PASSWORD: is required when NODE_ENV=production',
      'TOKEN_SECRET: is required when NODE_ENV=production',
      'JWT_SECRET: is required when NODE_ENV=production',
      'WEBHOOK_SECRET_KEY: is required when NODE_ENV=production',
    ]);
    const config = loadConfig({
      NODE_ENV: 'production',
      TOKEN_SECRET: 'x'.repeat(32),
      JWT_SECRET: 'y'.repeat(40),
      WEBHOOK_SECRET_KEY: 'z'.repeat(32),
      NIBSS_USERNAME: 'hub-nip',
      NIBSS_PASSWORD: 'p'.repeat(20),
    });
    expect(config.TOKEN_SECRET).toBe('x'.repeat(32));
    expect(config.WEBHOOK_URL_ALLOWLIST).toEqual([]);
  });

  it('allows loopback webhook targets by default outside production, and reads the retry schedule', () => {
    const config = loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0, 0.5,300' });
    expect(config.WEBHOOK_URL_ALLOWLIST).toEqual(['127.0.0.0/8', '::1', 'localhost']);
    expect(config.WEBHOOK_RETRY_SCHEDULE).toEqual([0, 0.5, 300]);
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE: '0,5m' })).toEqual([
      'WEBHOOK_RETRY_SCHEDULE: "5m" is not a number of seconds',
    ]);
  });

  it('documents exactly the variables it reads', () => {
    const documented = configVariables.map((v) => v.name).sort();
    // Optional variables appear in the parsed config only when set.
    const optional = {
      CLICKHOUSE_READ_URL: 'http://replica:8123',
      STATE_BUILDER_GROUP: 'g',
      REBUILD_GROUP: 'r',
      STATE_BENCH_CPU_PROFILE: 'p.cpuprofile',
      SIM_IDENTITIES: 'ids.json',
      SIM_FEED_URL: 'http://127.0.0.1:8080',
      SIM_FEED_API_KEY: 'k',
    };
    const parsed = Object.keys(loadConfig(optional)).sort();
    expect(documented).toEqual(parsed);
  });
});
