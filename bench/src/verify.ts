import { createServer } from 'node:net';
import { generatePopulation, publishSample } from '@hub/dev-tools/sample/index';
import { createKafka, createProducer, createSchemaRegistry, topicNames } from '@hub/infra';
import { jsonLog } from '@hub/processors/kafka/logger';
import { runStateBuilder } from '@hub/processors/state-builder/runtime';
import { nationalForm } from '@hub/schemas';
import { benchConfig, childEnv, createTopics, startChild, waitForLag } from './env.ts';
import { issueBenchKeys } from './keys.ts';
import { type LoadResult, runLoad } from './load.ts';
import type { Row } from './table.ts';

export interface VerifyBenchOptions {
  numbers: number;
  durationMs: number;
  connections: number;
}

/**
 * Single-verify throughput and latency of the real API process (Redis state built by the real state
 * builder from a published sample) against a bare node:http server answering a constant, driven by
 * the same load generator in the same run; then latency at half the ceiling's rate; then bulk-500.
 */
export async function benchVerify(
  o: VerifyBenchOptions,
): Promise<{ rows: Row[]; raw: Record<string, LoadResult> }> {
  const config = benchConfig('verify');
  await createTopics(config);
  const population = generatePopulation({ numbers: o.numbers, seed: 7, tokenSecret: config.TOKEN_SECRET });
  const kafka = createKafka(config);
  const producer = createProducer(kafka);
  await producer.connect();
  await publishSample(population, {
    producer,
    registry: createSchemaRegistry(config),
    topics: topicNames(config.TOPIC_PREFIX),
  });
  await producer.disconnect();

  const groupId = `${config.TOPIC_PREFIX}state-builder`;
  const builder = await runStateBuilder(config, {
    groupId,
    publishStateChanges: false,
    log: jsonLog('bench', 'warn'),
  });
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicNames(config.TOPIC_PREFIX);
  await waitForLag(admin, groupId, [
    topics.statusUpdates,
    topics.ninLinkages,
    topics.bvnLinkages,
    topics.delink,
  ]);
  await admin.disconnect();
  await builder.stop();

  const key = (await issueBenchKeys(config)).bank;
  const apiPort = await freePort();
  const ceilingPort = await freePort();
  const api = await startChild('query-api/src/main.ts', childEnv(config, { PORT: String(apiPort) }), (l) =>
    l.includes('query API listening'),
  );
  const ceiling = await startChild(
    'bench/src/ceiling-server.ts',
    { ...process.env, PORT: String(ceilingPort) },
    (l) => l.includes('listening'),
  );
  const floorPort = await freePort();
  const floor = await startChild(
    'bench/src/hono-floor-server.ts',
    { ...process.env, PORT: String(floorPort) },
    (l) => l.includes('listening'),
  );
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  const numbers = population.numbers.map((n) => nationalForm(n.msisdn));
  const single = numbers.map((n) => ({
    method: 'POST' as const,
    path: '/api/v1/phone/api/phone-numbers/verify',
    headers,
    body: JSON.stringify({ phoneNumber: n }),
  }));
  const bulk = Array.from(
    { length: Math.max(1, Math.min(20, Math.floor(numbers.length / 500))) },
    (_, i) => ({
      method: 'POST' as const,
      path: '/api/v1/phone/api/phone-numbers/verify/bulk',
      headers,
      body: JSON.stringify({ phoneNumbers: numbers.slice(i * 500, i * 500 + 500) }),
    }),
  );
  const base = { connections: o.connections, durationMs: o.durationMs, warmupMs: 2_000 };
  try {
    const ceilingRun = await runLoad({ ...base, url: `http://127.0.0.1:${ceilingPort}`, requests: single });
    const floorRun = await runLoad({ ...base, url: `http://127.0.0.1:${floorPort}`, requests: single });
    const verifyRun = await runLoad({ ...base, url: `http://127.0.0.1:${apiPort}`, requests: single });
    const half = Math.max(1, Math.round(ceilingRun.rps / 2));
    const halfRun = await runLoad({
      ...base,
      url: `http://127.0.0.1:${apiPort}`,
      requests: single,
      rate: half,
    });
    // Also at half of what the API itself sustains: the latency a deployment sized for its load sees.
    const halfOwn = Math.max(1, Math.round(verifyRun.rps / 2));
    const halfOwnRun = await runLoad({
      ...base,
      url: `http://127.0.0.1:${apiPort}`,
      requests: single,
      rate: halfOwn,
    });
    // The bare server at the same open-loop rate: the latency the load generator and host add alone.
    const ceilingHalfOwnRun = await runLoad({
      ...base,
      url: `http://127.0.0.1:${ceilingPort}`,
      requests: single,
      rate: halfOwn,
    });
    // One bulk request at a time: its latency. Four at a time: throughput (with queueing).
    const bulkLatencyRun = await runLoad({
      ...base,
      connections: 1,
      url: `http://127.0.0.1:${apiPort}`,
      requests: bulk,
    });
    const bulkRun = await runLoad({
      ...base,
      connections: 4,
      url: `http://127.0.0.1:${apiPort}`,
      requests: bulk,
    });
    for (const [name, run] of Object.entries({
      floorRun,
      verifyRun,
      halfRun,
      halfOwnRun,
      bulkLatencyRun,
      bulkRun,
    })) {
      if (run.errors > 0 || Object.keys(run.statuses).length > 0) {
        throw new Error(`${name}: ${run.errors} errors, statuses ${JSON.stringify(run.statuses)}`);
      }
    }
    const ratio = verifyRun.rps / ceilingRun.rps;
    const rows: Row[] = [
      {
        benchmark: 'ceiling: bare node:http constant',
        figure: `${ceilingRun.rps} req/s`,
        detail: `p50 ${ceilingRun.p50} ms, p99 ${ceilingRun.p99} ms`,
      },
      {
        benchmark: 'floor: Hono route reading the body, constant answer',
        figure: `${floorRun.rps} req/s`,
        detail: `p50 ${floorRun.p50} ms, p99 ${floorRun.p99} ms; the framework alone, before any verify work`,
        ratio: floorRun.rps / ceilingRun.rps,
      },
      {
        benchmark: 'single verify, closed loop',
        figure: `${verifyRun.rps} req/s`,
        detail: `p50 ${verifyRun.p50} ms, p99 ${verifyRun.p99} ms`,
        ratio,
        target: '≥ 0.70 of ceiling',
        met: ratio >= 0.7,
      },
      {
        benchmark: `single verify at half the ceiling (${half} req/s)`,
        figure: `p99 ${halfRun.p99} ms`,
        detail: `p50 ${halfRun.p50} ms, achieved ${halfRun.rps} req/s`,
        target: 'p99 ≤ 2 ms',
        met: halfRun.p99 <= 2,
      },
      {
        benchmark: `single verify at half the API's own throughput (${halfOwn} req/s)`,
        figure: `p99 ${halfOwnRun.p99} ms`,
        detail: `p50 ${halfOwnRun.p50} ms, achieved ${halfOwnRun.rps} req/s`,
      },
      {
        benchmark: `ceiling at the same rate (${halfOwn} req/s)`,
        figure: `p99 ${ceilingHalfOwnRun.p99} ms`,
        detail: `p50 ${ceilingHalfOwnRun.p50} ms: what the load generator and host add by themselves`,
      },
      {
        benchmark: 'bulk verify, 500 numbers, one at a time',
        figure: `p99 ${bulkLatencyRun.p99} ms`,
        detail: `p50 ${bulkLatencyRun.p50} ms, ${bulkLatencyRun.rps} req/s`,
        target: 'p99 ≤ 15 ms',
        met: bulkLatencyRun.p99 <= 15,
      },
      {
        benchmark: 'bulk verify, 500 numbers, 4 concurrent',
        figure: `p99 ${bulkRun.p99} ms`,
        detail: `p50 ${bulkRun.p50} ms, ${bulkRun.rps} req/s (${bulkRun.rps * 500} numbers/s)`,
      },
    ];
    return {
      rows,
      raw: {
        ceilingRun,
        floorRun,
        verifyRun,
        halfRun,
        halfOwnRun,
        ceilingHalfOwnRun,
        bulkLatencyRun,
        bulkRun,
      },
    };
  } finally {
    await api.stop();
    await ceiling.stop();
    await floor.stop();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
