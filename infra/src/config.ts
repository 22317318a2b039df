import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Repository root: two levels above this file (infra/src). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const NODE_ENVS = ['development', 'test', 'production'] as const;

/**
 * Development-only secrets. They are long enough to pass validation so a fresh
 * checkout runs, and say what they are so nobody mistakes them for real keys.
 * In production the variables are required and these are never used.
 */
export const DEV_TOKEN_SECRET = 'local-development-only-token-secret-do-not-use-in-production';
export const DEV_JWT_SECRET = 'local-development-only-jwt-secret-do-not-use-in-production';
export const DEV_WEBHOOK_SECRET_KEY = 'local-development-only-webhook-key-do-not-use-in-production';
/** Loopback only: the demo's receivers run on this machine; production allows no private address. */
export const DEV_WEBHOOK_URL_ALLOWLIST = '127.0.0.0/8,::1,localhost';

export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
}

/** Every environment variable the hub reads, for the README and `--help` output. */
export const configVariables = [
  {
    name: 'HUB_DATA_DIR',
    default: '<repo root>/.data',
    description: 'Folder for local service data, logs and pid files',
  },
  {
    name: 'KAFKA_BROKERS',
    default: '127.0.0.1:19092',
    description: 'Comma-separated Kafka bootstrap brokers (host:port)',
  },
  { name: 'KAFKA_CLIENT_ID', default: 'msisdn-hub', description: 'Kafka client id' },
  {
    name: 'KAFKA_PARTITIONS',
    default: '6',
    description: 'Partition count of the keyed topics (integer ≥ 1)',
  },
  { name: 'TOPIC_PREFIX', default: 'hub.', description: 'Prefix of every topic name' },
  {
    name: 'SCHEMA_REGISTRY_URL',
    default: 'http://127.0.0.1:18081',
    description: 'Confluent-compatible schema registry',
  },
  { name: 'REDIS_URL', default: 'redis://127.0.0.1:16379', description: 'Redis connection URL' },
  { name: 'REDIS_KEY_PREFIX', default: 'hub:', description: 'Prefix of every Redis key' },
  {
    name: 'CLICKHOUSE_URL',
    default: 'http://127.0.0.1:18123',
    description: 'ClickHouse HTTP endpoint (writes)',
  },
  {
    name: 'CLICKHOUSE_READ_URL',
    default: '',
    description: 'Optional ClickHouse read replica; reads use CLICKHOUSE_URL when unset',
  },
  { name: 'CLICKHOUSE_DATABASE', default: 'hub', description: 'ClickHouse database' },
  { name: 'CLICKHOUSE_USER', default: 'default', description: 'ClickHouse user' },
  { name: 'CLICKHOUSE_PASSWORD', default: '', description: 'ClickHouse password' },
  { name: 'HOST', default: '127.0.0.1', description: 'Address the query API listens on' },
  { name: 'PORT', default: '8080', description: 'Port the query API listens on' },
  {
    name: 'TRUSTED_PROXIES',
    default: '',
    description:
      'Comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For is believed; empty: the socket address is the client',
  },
  {
    name: 'NIMC_URL',
    default: 'http://127.0.0.1:18091',
    description: 'NIMC service (local simulator by default)',
  },
  {
    name: 'NIBSS_URL',
    default: 'http://127.0.0.1:18092',
    description: 'NIBSS service (local simulator by default)',
  },
  {
    name: 'NIBSS_USERNAME',
    default: '(development: test; required in production)',
    description: 'NIBSS NIP user name, sent in the body of NIP and delink calls',
  },
  {
    name: 'NIBSS_PASSWORD',
    default: '(development: test; required in production)',
    description: 'NIBSS NIP password, sent with NIBSS_USERNAME',
  },
  {
    name: 'TOKEN_SECRET',
    default: '(development value; required in production)',
    description: 'HMAC key for NIN/BVN tokens, at least 32 characters',
  },
  {
    name: 'JWT_SECRET',
    default: '(development value; required in production)',
    description: 'Key for signing session tokens, at least 32 characters',
  },
  {
    name: 'WEBHOOK_SECRET_KEY',
    default: '(development value; required in production)',
    description: 'Key that encrypts webhook signing secrets at rest (Kafka, Redis), at least 32 characters',
  },
  {
    name: 'WEBHOOK_URL_ALLOWLIST',
    default: `(development: ${DEV_WEBHOOK_URL_ALLOWLIST}; production: empty)`,
    description: 'Hosts, IPs or CIDRs a webhook URL may name although loopback or private',
  },
  {
    name: 'WEBHOOK_TIMEOUT_MS',
    default: '10000',
    description: 'A webhook attempt that has no 2xx answer within this time failed',
  },
  {
    name: 'WEBHOOK_RETRY_SCHEDULE',
    default: '0,5,300,1800,7200,18000,36000,36000',
    description: 'Delay in seconds before each attempt of a webhook message (±20% jitter after the first)',
  },
  {
    name: 'WEBHOOK_CONCURRENCY',
    default: '4',
    description: 'Attempts in flight per webhook endpoint',
  },
  {
    name: 'WEBHOOK_DISABLE_AFTER_SECONDS',
    default: '432000',
    description: 'An endpoint failing without a success for this long is disabled and its owner notified',
  },
  {
    name: 'WATCH_TTL_SECONDS',
    default: '15552000',
    description: 'A watch (organisation verified a number) ends this long after its last verification',
  },
  {
    name: 'SMS_GATEWAY_URL',
    default: 'http://127.0.0.1:18093',
    description: 'SMS gateway the notification SMS adapter posts to (local simulator by default)',
  },
  {
    name: 'SMTP_URL',
    default: 'smtp://127.0.0.1:18025',
    description: 'SMTP server for notification and password-reset mail (local sink by default)',
  },
  { name: 'MAIL_FROM', default: 'hub@localhost', description: 'Sender address of notification mail' },
  {
    name: 'WS_PING_INTERVAL_MS',
    default: '30000',
    description: 'WebSocket heartbeat: a client that misses a pong for this long is closed',
  },
  {
    name: 'WS_MAX_BUFFERED_BYTES',
    default: '1048576',
    description: 'WebSocket bytes queued for one client before it is closed as too slow (code 4008)',
  },
  {
    name: 'METRICS_PORT',
    default: '9464',
    description: "Port of a processor's /metrics endpoint on HOST (0 picks a free port)",
  },
  {
    name: 'STATE_BUILDER_GROUP',
    default: '<TOPIC_PREFIX>state-builder',
    description: "The state builder's Kafka consumer group",
  },
  {
    name: 'STATE_BUILDER_CHUNK',
    default: '1000',
    description: 'State builder: records per committed chunk (1–100000)',
  },
  {
    name: 'STATE_BUILDER_SESSION_TIMEOUT_MS',
    default: '30000',
    description: "State builder: Kafka consumer session timeout (6000–300000; kafkajs' own default)",
  },
  {
    name: 'REBUILD_GROUP',
    default: '<TOPIC_PREFIX>state-rebuild-<time>',
    description: 'Consumer group of a state rebuild (a fresh one per run unless set)',
  },
  {
    name: 'STATE_BENCH_CPU_PROFILE',
    default: '',
    description: 'State-builder benchmark: write a CPU profile (.cpuprofile) to this file',
  },
  {
    name: 'SIM_IDENTITIES',
    default: '<HUB_DATA_DIR>/simulators/identities.json',
    description: 'NIMC/NIBSS simulators: the identities file they serve',
  },
  { name: 'SIM_LATENCY_MS', default: '0', description: 'Simulators: added latency per call, in ms' },
  {
    name: 'SIM_FAILURE_RATE',
    default: '0',
    description: 'Simulators: share of calls that fail, from 0 to 1',
  },
  { name: 'SIM_DOWN', default: 'false', description: 'Simulators: refuse every call (true or 1)' },
  {
    name: 'SIM_FAIL_STATUS',
    default: '503',
    description: 'Simulators: the HTTP status of a failed call (400–599)',
  },
  {
    name: 'SIM_FEED_URL',
    default: '',
    description: "Simulators: the hub's base URL they push delink outcomes to; unset: no pushes",
  },
  {
    name: 'SIM_FEED_API_KEY',
    default: '(the source key in the demo credentials)',
    description: 'Simulators: the API key of those pushes',
  },
  {
    name: 'HUB_TEST_RUN',
    default: '',
    description:
      "Integration tests only: the run's name, set by its global setup; every test's topics carry it, so the run deletes its own",
  },
  {
    name: 'SMTP_SINK_HTTP_PORT',
    default: '18026',
    description: 'Local SMTP sink: port of its HTTP view of the received mail',
  },
  {
    name: 'DEMO_NUMBERS',
    default: '20000',
    description: 'Demo seeding: how many numbers to generate (1–10000000)',
  },
  {
    name: 'OPERATOR_CODE',
    default: 'MTN',
    description: 'ingest/examples/produce-status-avro.ts: the operator its sample record names',
  },
  { name: 'LOG_LEVEL', default: 'info', description: 'debug, info, warn or error' },
  { name: 'NODE_ENV', default: 'development', description: 'development, test or production' },
] as const satisfies readonly ConfigVariable[];

const brokerPattern = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;

const brokers = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0),
  )
  .pipe(
    z
      .array(z.string().regex(brokerPattern, { error: (iss) => `"${String(iss.input)}" is not host:port` }))
      .min(1, { error: 'must list at least one broker' }),
  );

/** An IPv4/IPv6 address, or one with a prefix length (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const proxies = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p.length > 0),
  )
  .pipe(
    z.array(
      z.string().refine(isAddressOrCidr, {
        error: (iss) => `"${String(iss.input)}" is not an IP address or CIDR (e.g. 10.0.0.0/8)`,
      }),
    ),
  );

function integer(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, { error: (iss) => `must be an integer, got "${String(iss.input)}"` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );
}

function url(protocols: RegExp, label: string) {
  return z.url({ protocol: protocols, error: (iss) => `must be a ${label} URL, got "${String(iss.input)}"` });
}

const httpUrl = () => url(/^https?$/, 'http(s)');

function secret(production: boolean, devValue: string) {
  const base = z.string({
    error: (iss) => (iss.input === undefined ? 'is required when NODE_ENV=production' : 'must be a string'),
  });
  const checked = base.min(32, { error: 'must be at least 32 characters' });
  return production ? checked : checked.default(devValue);
}

/** A credential of an outside service: the simulator's in development, required in production. */
function credential(production: boolean, devValue: string) {
  const base = z
    .string({
      error: (iss) => (iss.input === undefined ? 'is required when NODE_ENV=production' : 'must be a string'),
    })
    .min(1, { error: 'must not be empty' });
  return production ? base : base.default(devValue);
}

function buildSchema(production: boolean) {
  return z.object({
    HUB_DATA_DIR: z.string().min(1).default(resolve(repoRoot, '.data')),
    KAFKA_BROKERS: z.string().default('127.0.0.1:19092').pipe(brokers),
    KAFKA_CLIENT_ID: z.string().min(1).default('msisdn-hub'),
    KAFKA_PARTITIONS: z.string().default('6').pipe(integer(1, 10_000)),
    TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, { error: 'may only contain letters, digits, ".", "_" and "-"' })
      .default('hub.'),
    SCHEMA_REGISTRY_URL: httpUrl().default('http://127.0.0.1:18081'),
    REDIS_URL: url(/^rediss?$/, 'redis(s)').default('redis://127.0.0.1:16379'),
    REDIS_KEY_PREFIX: z.string().default('hub:'),
    CLICKHOUSE_URL: httpUrl().default('http://127.0.0.1:18123'),
    CLICKHOUSE_READ_URL: httpUrl().optional(),
    CLICKHOUSE_DATABASE: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a plain identifier (letters, digits, _)' })
      .default('hub'),
    CLICKHOUSE_USER: z.string().min(1).default('default'),
    CLICKHOUSE_PASSWORD: z.string().default(''),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.string().default('8080').pipe(integer(0, 65_535)),
    TRUSTED_PROXIES: z.string().default('').pipe(proxies),
    NIMC_URL: httpUrl().default('http://127.0.0.1:18091'),
    NIBSS_URL: httpUrl().default('http://127.0.0.1:18092'),
    NIBSS_USERNAME: credential(production, 'test'),
    NIBSS_PASSWORD: credential(production, 'test'),
    TOKEN_SECRET: secret(production, DEV_TOKEN_SECRET),
    JWT_SECRET: secret(production, DEV_JWT_SECRET),
    WEBHOOK_SECRET_KEY: secret(production, DEV_WEBHOOK_SECRET_KEY),
    WEBHOOK_URL_ALLOWLIST: z
      .string()
      .default(production ? '' : DEV_WEBHOOK_URL_ALLOWLIST)
      .transform((v) =>
        v
          .split(',')
          .map((e) => e.trim().toLowerCase())
          .filter((e) => e.length > 0),
      ),
    WEBHOOK_TIMEOUT_MS: z.string().default('10000').pipe(integer(100, 60_000)),
    WEBHOOK_RETRY_SCHEDULE: z
      .string()
      .default('0,5,300,1800,7200,18000,36000,36000')
      .transform((v) => v.split(',').map((d) => d.trim()))
      .pipe(
        z
          .array(
            z
              .string()
              .regex(/^\d+(\.\d+)?$/, { error: (iss) => `"${String(iss.input)}" is not a number of seconds` })
              .transform(Number),
          )
          .min(1, { error: 'must list at least one delay' }),
      ),
    WEBHOOK_CONCURRENCY: z.string().default('4').pipe(integer(1, 1000)),
    WEBHOOK_DISABLE_AFTER_SECONDS: z
      .string()
      .default('432000')
      .pipe(integer(1, 365 * 86_400)),
    WATCH_TTL_SECONDS: z
      .string()
      .default('15552000')
      .pipe(integer(1, 10 * 365 * 86_400)),
    SMS_GATEWAY_URL: httpUrl().default('http://127.0.0.1:18093'),
    SMTP_URL: url(/^smtps?$/, 'smtp(s)').default('smtp://127.0.0.1:18025'),
    MAIL_FROM: z.string().min(3).default('hub@localhost'),
    WS_PING_INTERVAL_MS: z.string().default('30000').pipe(integer(100, 3_600_000)),
    WS_MAX_BUFFERED_BYTES: z
      .string()
      .default('1048576')
      .pipe(integer(1024, 1024 * 1024 * 1024)),
    METRICS_PORT: z.string().default('9464').pipe(integer(0, 65_535)),
    STATE_BUILDER_GROUP: z.string().min(1).optional(),
    STATE_BUILDER_CHUNK: z.string().default('1000').pipe(integer(1, 100_000)),
    STATE_BUILDER_SESSION_TIMEOUT_MS: z.string().default('30000').pipe(integer(6_000, 300_000)),
    REBUILD_GROUP: z.string().min(1).optional(),
    STATE_BENCH_CPU_PROFILE: z.string().min(1).optional(),
    SIM_IDENTITIES: z.string().min(1).optional(),
    SIM_LATENCY_MS: z.string().default('0').pipe(integer(0, 600_000)),
    SIM_FAILURE_RATE: z
      .string()
      .regex(/^(0(\.\d+)?|1(\.0+)?)$/, {
        error: (iss) => `must be a number from 0 to 1, got "${String(iss.input)}"`,
      })
      .default('0')
      .transform(Number),
    SIM_DOWN: z
      .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    SIM_FAIL_STATUS: z.string().default('503').pipe(integer(400, 599)),
    SIM_FEED_URL: httpUrl().optional(),
    SIM_FEED_API_KEY: z.string().min(1).optional(),
    HUB_TEST_RUN: z
      .string()
      .regex(/^[a-z0-9]*$/, { error: 'may only contain lower-case letters and digits' })
      .default(''),
    SMTP_SINK_HTTP_PORT: z.string().default('18026').pipe(integer(0, 65_535)),
    DEMO_NUMBERS: z.string().default('20000').pipe(integer(1, 10_000_000)),
    OPERATOR_CODE: z.string().min(1).default('MTN'),
    LOG_LEVEL: z
      .enum(LOG_LEVELS, {
        error: (iss) => `must be one of ${LOG_LEVELS.join(', ')}, got "${String(iss.input)}"`,
      })
      .default('info'),
    NODE_ENV: z
      .enum(NODE_ENVS, {
        error: (iss) => `must be one of ${NODE_ENVS.join(', ')}, got "${String(iss.input)}"`,
      })
      .default('development'),
  });
}

export type Config = z.infer<ReturnType<typeof buildSchema>>;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  readonly problems: readonly { variable: string; message: string }[];

  constructor(problems: readonly { variable: string; message: string }[]) {
    super(
      `Invalid environment (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p.variable}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses the environment once. Empty variables count as unset (a blank line in
 * an env file should mean "use the default", not "use the empty string").
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = new Set<string>(configVariables.map((v) => v.name));
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (known.has(key) && value !== undefined && value !== '') input[key] = value;
  }
  const result = buildSchema(input.NODE_ENV === 'production').safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** The variables as a Markdown table; infra/README.md carries it and a test keeps the two equal. */
export function configTableMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| variable | default | description |',
    '| --- | --- | --- |',
    ...configVariables.map(
      (v) =>
        `| \`${v.name}\` | ${v.default === '' ? '(empty)' : `\`${cell(v.default)}\``} | ${cell(v.description)} |`,
    ),
  ].join('\n');
}
