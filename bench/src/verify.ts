import { createServer } from 'node:net';
import { generatePopulation, publishSample } from '@hub/dev-tools/sample/index';
import { createKafka, createProducer, createRedis, createSchemaRegistry, topicNames } from '@hub/infra';
import { jsonLog } from '@hub/processors/kafka/logger';
import { runStateBuilder } from '@hub/processors/state-builder/runtime';
import { nationalForm } from '@hub/schemas';
import { benchConfig, type Child, childEnv, createTopics, startChild, waitForLag } from './env.ts';
import { issueBenchKeys } from './keys.ts';
import type { LoadResult } from './load.ts';
import { runOha } from './oha.ts';
import type { Row } from './table.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export interface VerifyBenchOptions {
  numbers: number;
  durationMs: number;
  connections: number;
}

/**
 * Single-verify CPU per request of the real API process (Redis state built by the real state
 * builder from a published sample) beside a bare node:http server answering a constant and a
 * minimal Hono route with one Redis GET, all three driven closed loop by wrk in the same run (each
 * process's CPU read from /proc around the measured window); then open-loop latency at half the
 * API's throughput; then bulk-500.
 */
export async function benchVerify(
  o: VerifyBenchOptions,
): Promise<{ rows: Row[]; raw: Record<string, LoadResult | WrkResult> }> {
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
  // The floor server's one GET: a value the size of a state record.
  const redis = createRedis(config);
  await redis.set(`${config.REDIS_KEY_PREFIX}bench:floor`, 'x'.repeat(56));
  await redis.quit();
  const apiPort = await freePort();
  const ceilingPort = await freePort();
  const floorPort = await freePort();
  const api = await startChild('query-api/src/main.ts', childEnv(config, { PORT: String(apiPort) }), (l) =>
    l.includes('query API listening'),
  );
  const ceiling = await startChild(
    'bench/src/ceiling-server.ts',
    { ...process.env, PORT: String(ceilingPort) },
    (l) => l.includes('listening'),
  );
  const floor = await startChild(
    'bench/src/hono-floor-server.ts',
    childEnv(config, { PORT: String(floorPort) }),
    (l) => l.includes('listening'),
  );
  const pid = (c: Child) => c.process.pid!;
  console.error(
    `bench: verify processes: API ${pid(api)}, bare node:http ${pid(ceiling)}, Hono floor ${pid(floor)}`,
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
  const closed = { connections: o.connections, durationMs: o.durationMs, warmupMs: 2_000 };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  try {
    // The same generator (wrk, not a Node process) drives the three servers one after another.
    const ceilingRun = await runWrk(config, {
      ...closed,
      url: url(ceilingPort),
      requests: single,
      processes: { bare: pid(ceiling) },
    });
    const floorRun = await runWrk(config, {
      ...closed,
      url: url(floorPort),
      requests: single,
      processes: { floor: pid(floor) },
    });
    const verifyRun = await runWrk(config, {
      ...closed,
      url: url(apiPort),
      requests: single,
      processes: { api: pid(api) },
    });
    // Open loop at half of what the API itself sustains: the latency a deployment sized for its
    // load sees; then the bare server at the same rate, what the generator and host add alone.
    // (Latency only: no CPU figure is taken from these.)
    const halfOwn = Math.max(1, Math.round(verifyRun.rps / 2));
    const openLoop = {
      connections: o.connections,
      durationMs: o.durationMs,
      warmupMs: 2_000,
      rate: halfOwn,
      method: 'POST' as const,
      headers,
      bodies: single.slice(0, 2_000).map((r) => r.body),
    };
    const halfOwnRun = await runOha(config, { ...openLoop, url: `${url(apiPort)}${single[0]!.path}` });
    const ceilingHalfOwnRun = await runOha(config, {
      ...openLoop,
      url: `${url(ceilingPort)}${single[0]!.path}`,
    });
    // One bulk request at a time: its latency and CPU. Four at a time: throughput (with queueing).
    const bulkLatencyRun = await runWrk(config, {
      ...closed,
      connections: 1,
      url: url(apiPort),
      requests: bulk,
      processes: { api: pid(api) },
    });
    const bulkRun = await runWrk(config, {
      ...closed,
      connections: 4,
      url: url(apiPort),
      requests: bulk,
      processes: { api: pid(api) },
    });
    for (const [name, run] of Object.entries({ ceilingRun, floorRun, verifyRun, bulkLatencyRun, bulkRun })) {
      if (run.errors > 0 || run.statusErrors > 0) {
        throw new Error(`${name}: ${run.errors} socket errors, ${run.statusErrors} answers ≥ 400`);
      }
    }
    for (const [name, run] of Object.entries({ halfOwnRun, ceilingHalfOwnRun })) {
      if (run.errors > 0 || Object.keys(run.statuses).length > 0) {
        throw new Error(`${name}: ${run.errors} errors, statuses ${JSON.stringify(run.statuses)}`);
      }
    }
    const bare = ceilingRun.cpuPerRequest.bare!;
    const floorCpu = floorRun.cpuPerRequest.floor!;
    const apiCpu = verifyRun.cpuPerRequest.api!;
    const bulkCpu = bulkLatencyRun.cpuPerRequest.api!;
    const via = `wrk, ${o.connections} connections`;
    const rows: Row[] = [
      {
        benchmark: 'verify reference: bare node:http constant, CPU per request',
        figure: `${bare} µs`,
        detail: `${fmtInt(ceilingRun.rps)} req/s, p50 ${ceilingRun.p50} ms, p99 ${ceilingRun.p99} ms (${via})`,
        ratio: 1,
      },
      {
        benchmark: 'verify reference: Hono route + one ioredis GET, CPU per request',
        figure: `${floorCpu} µs`,
        detail: `${fmtInt(floorRun.rps)} req/s, p50 ${floorRun.p50} ms, p99 ${floorRun.p99} ms; body read and parsed as the API does, constant answer`,
        ratio: floorCpu / bare,
      },
      {
        benchmark: 'single verify: CPU per request',
        figure: `${apiCpu} µs`,
        detail: `${fmtInt(verifyRun.rps)} req/s, p50 ${verifyRun.p50} ms, p99 ${verifyRun.p99} ms (${via}); ratio: against bare node:http`,
        ratio: apiCpu / bare,
        target: '≤ 2.0× bare node:http',
        met: apiCpu / bare <= 2,
      },
      {
        benchmark: `single verify at half the API's own throughput (${halfOwn} req/s, open loop)`,
        figure: `p99 ${halfOwnRun.p99} ms`,
        detail: `p50 ${halfOwnRun.p50} ms, achieved ${halfOwnRun.rps} req/s (oha, latency corrected for coordinated omission)`,
      },
      {
        benchmark: `bare node:http at the same rate (${halfOwn} req/s, open loop)`,
        figure: `p99 ${ceilingHalfOwnRun.p99} ms`,
        detail: `p50 ${ceilingHalfOwnRun.p50} ms: what the load generator and host add by themselves`,
      },
      {
        benchmark: 'bulk verify, 500 numbers, one at a time',
        figure: `p99 ${bulkLatencyRun.p99} ms`,
        detail: `p50 ${bulkLatencyRun.p50} ms, ${bulkLatencyRun.rps} req/s, API CPU ${(bulkCpu / 1000).toFixed(2)} ms per request`,
        target: 'p99 ≤ 15 ms, CPU ≤ 3 ms',
        met: bulkLatencyRun.p99 <= 15 && bulkCpu <= 3_000,
      },
      {
        benchmark: 'bulk verify, 500 numbers, 4 concurrent',
        figure: `p99 ${bulkRun.p99} ms`,
        detail: `p50 ${bulkRun.p50} ms, ${bulkRun.rps} req/s (${bulkRun.rps * 500} numbers/s), API CPU ${(bulkRun.cpuPerRequest.api! / 1000).toFixed(2)} ms per request`,
      },
    ];
    return {
      rows,
      raw: {
        ceilingRun,
        floorRun,
        verifyRun,
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

const fmtInt = (n: number) => n.toLocaleString('en-US');

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
