import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, createProducer, createSchemaRegistry, loadConfig, topicNames } from '@hub/infra';
import { generateApiKey, hashPassword, type NewOrganisation, type NewUser, Security } from '@hub/security';
import { generatePopulation, publishSample, writeIdentities } from '../sample/index.ts';
import { demoAccountLines } from '../simulators/demo-identities.ts';

/**
 * Demo data for `npm start`, done once per data folder: organisations, people and API keys
 * published on the accounts topic (a hub admin, an auditor and an analyst; one organisation per
 * major operator, two banks, NIMC and NIBSS, each with an API key), printed and written to
 * demo-credentials.json, and a synthetic national sample published to Kafka (the processors
 * build Redis and ClickHouse from it).
 */
const DEMO_SEED = 42;

const config = loadConfig();
const DEMO_NUMBERS = config.DEMO_NUMBERS;
mkdirSync(config.HUB_DATA_DIR, { recursive: true });

const credentialsPath = join(config.HUB_DATA_DIR, 'demo-credentials.json');
const seeded =
  existsSync(credentialsPath) &&
  (JSON.parse(readFileSync(credentialsPath, 'utf8')) as { topicPrefix?: string }).topicPrefix ===
    config.TOPIC_PREFIX;
if (!seeded) {
  const security = await Security.create(config, { project: false });
  try {
    const organisations: NewOrganisation[] = [
      { id: 'HUB', name: 'NCC Hub', type: 'HUB' },
      { id: 'MTN', name: 'MTN Nigeria', type: 'OPERATOR', operatorCode: 'MTN', generalPerMinute: 6_000 },
      {
        id: 'AIRTEL',
        name: 'Airtel Nigeria',
        type: 'OPERATOR',
        operatorCode: 'AIRTEL',
        generalPerMinute: 6_000,
      },
      { id: 'GLO', name: 'Globacom', type: 'OPERATOR', operatorCode: 'GLO', generalPerMinute: 6_000 },
      { id: '9MOBILE', name: '9mobile', type: 'OPERATOR', operatorCode: '9MOBILE', generalPerMinute: 6_000 },
      { id: 'FIRSTDEMOBANK', name: 'First Demo Bank', type: 'SERVICE_PROVIDER', verifyPerMinute: 120_000 },
      {
        id: 'SECONDDEMOFINTECH',
        name: 'Second Demo Fintech',
        type: 'SERVICE_PROVIDER',
        verifyPerMinute: 60_000,
      },
      { id: 'NIMC', name: 'NIMC', type: 'IDENTITY_SOURCE' },
      { id: 'NIBSS', name: 'NIBSS', type: 'IDENTITY_SOURCE' },
    ];
    // Records do not wait for the projection here: the API catches up with the topic at start-up.
    for (const o of organisations) await security.createOrganisation('system:demo-seed', o);
    const password = () => randomBytes(12).toString('base64url');
    const people: Omit<NewUser, 'organisationId'>[] = [
      { email: 'admin@hub.local', name: 'Demo hub admin', role: 'Admin', password: password() },
      { email: 'auditor@hub.local', name: 'Demo auditor', role: 'Auditor', password: password() },
      { email: 'analyst@hub.local', name: 'Demo analyst', role: 'Analyst', password: password() },
    ];
    const users = [];
    for (const u of people) {
      await security.publish('USER_UPSERTED', 'system:demo-seed', {
        user: {
          id: randomBytes(16).toString('hex'),
          organisationId: 'HUB',
          email: u.email,
          name: u.name,
          role: u.role,
          passwordHash: await hashPassword(u.password),
          passwordChangedAt: Date.now(),
          active: true,
        },
      });
      users.push({ email: u.email, role: u.role, password: u.password });
    }
    const apiKeys = [];
    for (const o of organisations) {
      const key = await issueWithoutProjection(security, o.id, `${o.name} demo key`);
      apiKeys.push({ organisation: o.id, name: o.name, type: o.type, key });
    }
    writeFileSync(
      credentialsPath,
      `${JSON.stringify({ topicPrefix: config.TOPIC_PREFIX, users, apiKeys }, null, 2)}\n`,
      { mode: 0o600 },
    );
    console.log('demo credentials (also in demo-credentials.json):');
    for (const u of users) console.log(`  ${u.role.padEnd(16)} ${u.email.padEnd(22)} ${u.password}`);
    for (const k of apiKeys) console.log(`  ${k.name.padEnd(22)} ${k.type.padEnd(16)} ${k.key}`);
    console.log('simulator demo accounts (NIMC/NIBSS sandbox identities, README "Simulator demo accounts"):');
    for (const line of demoAccountLines()) console.log(`  ${line}`);
  } finally {
    await security.close();
  }
}

/** Issues a key for an organisation published moments ago (not yet in the projection). */
async function issueWithoutProjection(
  security: Security,
  organisationId: string,
  name: string,
): Promise<string> {
  const generated = generateApiKey();
  const now = Date.now();
  await security.publish('API_KEY_ISSUED', 'system:demo-seed', {
    apiKey: {
      id: randomBytes(16).toString('hex'),
      organisationId,
      name,
      prefix: generated.prefix,
      hash: generated.hash,
      createdAt: now,
      createdBy: 'system:demo-seed',
      expiresAt: null,
      revokedAt: null,
    },
  });
  return generated.key;
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
