import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, createProducer, createSchemaRegistry, loadConfig, topicNames } from '@hub/infra';
import { apiKeysFile } from '../bootstrap.ts';
import type { Principal, StaticApiKey } from '../principal.ts';
import { generatePopulation, publishSample, writeIdentities } from '../sample/index.ts';

/**
 * Demo data for `npm start`, done once per data folder: API keys for each major operator, two
 * banks, NIMC, NIBSS and the hub (printed and written to demo-credentials.json), and a synthetic
 * national sample published to Kafka (the processors build Redis and ClickHouse from it).
 */
const DEMO_NUMBERS = Number(process.env.DEMO_NUMBERS ?? 20_000);
const DEMO_SEED = 42;

const config = loadConfig();
mkdirSync(config.HUB_DATA_DIR, { recursive: true });

const org = (
  organisation: string,
  type: Principal['type'],
  operatorCode: string | null = null,
): Principal => ({
  organisation,
  type,
  operatorCode,
  credentialId: `demo-${organisation.toLowerCase().replace(/\W+/g, '-')}`,
});

const keysPath = apiKeysFile(config);
if (!existsSync(keysPath)) {
  const principals = [
    org('MTN Nigeria', 'OPERATOR', 'MTN'),
    org('Airtel Nigeria', 'OPERATOR', 'AIRTEL'),
    org('Globacom', 'OPERATOR', 'GLO'),
    org('9mobile', 'OPERATOR', '9MOBILE'),
    org('First Demo Bank', 'SERVICE_PROVIDER'),
    org('Second Demo Fintech', 'SERVICE_PROVIDER'),
    org('NIMC', 'IDENTITY_SOURCE'),
    org('NIBSS', 'IDENTITY_SOURCE'),
    org('NCC Hub', 'HUB'),
  ];
  const keys: StaticApiKey[] = principals.map((principal) => ({
    key: `hub_${randomBytes(24).toString('base64url')}`,
    principal,
  }));
  writeFileSync(keysPath, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(
    join(config.HUB_DATA_DIR, 'demo-credentials.json'),
    `${JSON.stringify({ apiKeys: keys }, null, 2)}\n`,
    { mode: 0o600 },
  );
  console.log('demo API keys (also in demo-credentials.json):');
  for (const k of keys)
    console.log(`  ${k.principal.organisation.padEnd(22)} ${k.principal.type.padEnd(16)} ${k.key}`);
}

const marker = join(
  config.HUB_DATA_DIR,
  'sample',
  `published-${config.TOPIC_PREFIX}${DEMO_SEED}-${DEMO_NUMBERS}`,
);
if (!existsSync(marker)) {
  const started = Date.now();
  const population = generatePopulation({
    numbers: DEMO_NUMBERS,
    seed: DEMO_SEED,
    tokenSecret: config.TOKEN_SECRET,
  });
  await writeIdentities(population, join(config.HUB_DATA_DIR, 'simulators', 'identities.json'));
  const producer = createProducer(createKafka(config));
  await producer.connect();
  try {
    const result = await publishSample(population, {
      producer,
      registry: createSchemaRegistry(config),
      topics: topicNames(config.TOPIC_PREFIX),
    });
    mkdirSync(join(config.HUB_DATA_DIR, 'sample'), { recursive: true });
    writeFileSync(marker, `${JSON.stringify(result)}\n`);
    console.log(
      `demo sample: ${DEMO_NUMBERS} numbers, ${result.total} events published in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await producer.disconnect();
  }
}
