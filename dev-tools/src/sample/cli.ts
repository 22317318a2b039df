import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createKafka,
  createProducer,
  createSchemaRegistry,
  ensureTopics,
  loadConfig,
  topicNames,
  topicSpecs,
} from '@hub/infra';
import { IDENTITIES_FILE, writeIdentities, writeSample } from './files.ts';
import { DEFAULT_RATES, type SampleRates } from './options.ts';
import { generatePopulation } from './population.ts';
import { publishSample } from './publish.ts';

const USAGE = `Deterministic synthetic national sample for tests and benchmarks.

Usage: tsx dev-tools/src/sample/cli.ts generate [options]
  --numbers <n>         numbers to simulate (default 20000)
  --seed <n>            32-bit unsigned seed (default 42)
  --out <dir>           folder for the NDJSON files (default <HUB_DATA_DIR>/sample)
  --start <date>        first day of the period (default 2019-01-01)
  --end <date>          last day of the period (default yesterday in Lagos)
  --identities <path>   NIMC/NIBSS simulator seed with raw identifiers
                        (default <HUB_DATA_DIR>/simulators/${IDENTITIES_FILE})
  --no-identities       do not write the simulator seed
  --rate <name=value>   override a rate (repeatable); names: ${Object.keys(DEFAULT_RATES).join(', ')}
  --publish             also publish the events to Kafka as Avro (topics from TOPIC_PREFIX)
  --batch-size <n>      messages per Kafka batch when publishing (default 2000)

Output: status-updates.ndjson, nin-linkages.ndjson, bvn-linkages.ndjson, delink.ndjson,
expected-state.ndjson. Same seed and options (with --end fixed) give byte-identical files.`;

class UsageError extends Error {}

function integerArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

function rateArgs(values: readonly string[]): Partial<SampleRates> {
  const rates: Record<string, number> = {};
  for (const v of values) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(v);
    if (!m?.[1] || m[2] === undefined) throw new UsageError(`--rate expects name=value, got '${v}'`);
    const value = Number(m[2]);
    if (!Number.isFinite(value)) throw new UsageError(`--rate ${m[1]} must be a number, got '${m[2]}'`);
    rates[m[1]] = value;
  }
  return rates;
}

async function generate(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      numbers: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      identities: { type: 'string' },
      'no-identities': { type: 'boolean', default: false },
      rate: { type: 'string', multiple: true, default: [] },
      publish: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const config = loadConfig();
  const out = values.out ?? join(config.HUB_DATA_DIR, 'sample');
  const log = (msg: string) => process.stderr.write(`${msg}\n`);

  const t0 = Date.now();
  const population = generatePopulation({
    numbers: integerArg('numbers', values.numbers, 20_000),
    seed: integerArg('seed', values.seed, 42),
    tokenSecret: config.TOKEN_SECRET,
    ...(values.start === undefined ? {} : { startDate: values.start }),
    ...(values.end === undefined ? {} : { endDate: values.end }),
    rates: rateArgs(values.rate),
  });
  const { startDate, endDate } = population.options;
  log(`simulated ${population.numbers.length} numbers (${startDate} → ${endDate}) in ${Date.now() - t0} ms`);

  const t1 = Date.now();
  const written = await writeSample(population, out, (n) => log(`  wrote ${n} events…`));
  log(
    `wrote ${Object.entries(written.counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')} and ${written.numbers} expected states to ${out} in ${Date.now() - t1} ms`,
  );
  if (!values['no-identities']) {
    const path = values.identities ?? join(config.HUB_DATA_DIR, 'simulators', IDENTITIES_FILE);
    await writeIdentities(population, path);
    log(`wrote ${population.people.size} NINs and ${population.bvns.size} BVNs to ${path}`);
  }

  if (values.publish) {
    const kafka = createKafka(config);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, topicSpecs(config.TOPIC_PREFIX, config.KAFKA_PARTITIONS));
    } finally {
      await admin.disconnect();
    }
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      const result = await publishSample(population, {
        producer,
        registry: createSchemaRegistry(config),
        topics: topicNames(config.TOPIC_PREFIX),
        batchSize: integerArg('batch-size', values['batch-size'], 2000),
        onProgress: (n) => {
          if (n % 50_000 < 2000) log(`  published ${n} events…`);
        },
      });
      const rate = Math.round(result.total / Math.max(result.elapsedMs / 1000, 0.001));
      log(
        `published ${result.total} events in ${result.elapsedMs} ms (${rate}/s) to ${config.TOPIC_PREFIX}*`,
      );
    } finally {
      await producer.disconnect();
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'generate') {
    console.error(`unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  await generate(rest);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    console.error(usage ? `${err.message}\n\n${USAGE}` : err.message);
    process.exitCode = usage ? 2 : 1;
  },
);
