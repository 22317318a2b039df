import { killAllChildren, LOG_DIR, restoreServices } from './env.ts';
import { crashScenario } from './s1-crash.ts';
import { kafkaOutageScenario } from './s2-kafka-outage.ts';
import { clickhouseOutageScenario } from './s3-clickhouse-outage.ts';
import { rebuildScenario } from './s4-rebuild.ts';
import { poisonScenario } from './s5-poison.ts';
import { fuzzScenario } from './s6-fuzz.ts';
import { floodScenario } from './s7-flood.ts';
import { delinkDispatchScenario } from './s8-delink-dispatch.ts';
import { webhookCrashScenario } from './s9-webhook-crash.ts';
import { Report, type Scenario } from './scenario.ts';

/**
 * Fault injection against the real local stack: see test/faults/README.md.
 *
 *   npm run test:faults [-- --quick] [--only 1,3] [--seed N]
 */
const scenarios: Scenario[] = [
  crashScenario,
  kafkaOutageScenario,
  clickhouseOutageScenario,
  rebuildScenario,
  poisonScenario,
  fuzzScenario,
  floodScenario,
  delinkDispatchScenario,
  webhookCrashScenario,
];

function parseArgs(argv: string[]) {
  let quick = false;
  let only: number[] | null = null;
  let seed = 20250630;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') only = (argv[++i] ?? '').split(',').map(Number);
    else if (a.startsWith('--only=')) only = a.slice(7).split(',').map(Number);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a.startsWith('--seed=')) seed = Number(a.slice(7));
    else if (a !== '--')
      throw new Error(`unknown argument ${a}; usage: run.ts [--quick] [--only 1,2] [--seed N]`);
  }
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  return { quick, only, seed };
}

async function main(): Promise<number> {
  const { quick, only, seed } = parseArgs(process.argv.slice(2));
  const run = `${Date.now().toString(36)}`;
  console.log(
    `fault injection run ${run}: ${quick ? 'quick' : 'full'} mode, seed ${seed}; child logs in ${LOG_DIR}\n` +
      'Scenarios 2 and 3 stop the shared Kafka and ClickHouse: run this alone on the machine.',
  );
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping children and restarting any stopped service`);
    killAllChildren();
    void restoreServices().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: { s: Scenario; ok: boolean; seconds: number; report: Report }[] = [];
  const started = Date.now();
  for (const s of scenarios.filter((x) => only === null || only.includes(x.id))) {
    console.log(`\n[${s.id}] ${s.title}`);
    const report = new Report();
    const t0 = Date.now();
    try {
      await s.run({ run, quick, seed }, report);
    } catch (err) {
      report.fail(`scenario aborted: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      killAllChildren();
      const restored = await restoreServices();
      if (restored.length > 0) report.step(`restarted ${restored.join(', ')} after the scenario`);
    }
    const seconds = (Date.now() - t0) / 1000;
    const ok = report.problems.length === 0;
    results.push({ s, ok, seconds, report });
    console.log(`[${s.id}] ${ok ? 'PASSED' : 'FAILED'} in ${seconds.toFixed(0)} s`);
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log('\nsummary');
  for (const r of results) {
    console.log(
      `  [${r.s.id}] ${r.ok ? 'passed' : 'FAILED'} ${r.seconds.toFixed(0).padStart(4)} s  ${r.s.title}`,
    );
    for (const p of r.report.problems) console.log(`        ✗ ${p.split('\n')[0]}`);
  }
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    killAllChildren();
    await restoreServices();
    process.exit(2);
  },
);
