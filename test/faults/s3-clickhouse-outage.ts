import { RAW_TABLES } from '@hub/state/history/tables';
import {
  type Child,
  createFaultEnv,
  killChild,
  scalar,
  sleep,
  startHistorySink,
  startService,
  stopChild,
  stopService,
  waitReady,
} from './env.ts';
import { historyProblems, INPUT_TABLES, makeSample, sampleProducer, waitForHistory } from './oracle.ts';
import type { Scenario } from './scenario.ts';

/**
 * ClickHouse stopped for 60 s (15 s in --quick) while the history sink streams a sample: every row
 * must arrive exactly once and no rollup may count an event twice.
 */
export const clickhouseOutageScenario: Scenario = {
  id: 3,
  title: 'ClickHouse stopped mid-stream under the history sink',
  stopsServices: true,
  async run(ctx, report) {
    const outageMs = ctx.quick ? 15_000 : 60_000;
    const numbers = ctx.quick ? 3000 : 8000;
    const env = await createFaultEnv(ctx.run, 's3');
    const sample = makeSample(numbers, ctx.seed + 3, env.config.TOKEN_SECRET);
    const producer = await sampleProducer(env);
    let sink: Child = startHistorySink(env);
    let sinkRestarts = 0;
    try {
      await waitReady(sink);
      const third = Math.ceil(sample.events.length / 3);
      await producer.send(sample.events.slice(0, third));
      const firstRows = await (async () => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const n = await scalar(env.clickhouse, `SELECT count() FROM ${env.db}.status_events_v1`).catch(
            () => 0,
          );
          if (n > 0 || Date.now() > deadline) return n;
          await sleep(200);
        }
      })();
      report.step(
        `${sample.events.length} deliveries of ${numbers} numbers; first third sent, sink storing (${firstRows} status rows so far)`,
      );
      await stopService('clickhouse');
      const stoppedAt = Date.now();
      report.step('ClickHouse stopped; streaming the other two thirds');
      const rest = sample.events.slice(third);
      const slice = Math.ceil(rest.length / 10);
      for (let i = 0; i < rest.length; i += slice) {
        await producer.send(rest.slice(i, i + slice));
        await sleep(Math.max(0, outageMs / 12));
      }
      const remaining = outageMs - (Date.now() - stoppedAt);
      if (remaining > 0) await sleep(remaining);
      // A process supervisor would restart a sink that died: do the same, and report it.
      if (sink.exited()) {
        sinkRestarts++;
        report.fail(`the history sink process exited while ClickHouse was down:\n${sink.tail().slice(-800)}`);
      }
      await startService('clickhouse');
      report.step(`ClickHouse down for ${((Date.now() - stoppedAt) / 1000).toFixed(0)} s, started again`);
      if (sink.exited()) {
        sink = startHistorySink(env, 'history-sink-restarted');
        sinkRestarts++;
      }
      const pairs: [string, string][] = INPUT_TABLES.map(([kind, key]) => [
        env.topics[key] as string,
        RAW_TABLES[kind],
      ]);
      const late = await waitForHistory(env, pairs, 240_000);
      if (late) report.fail(`history sink did not catch up: ${late}`);
      else report.fact(`caught up ${((Date.now() - stoppedAt) / 1000).toFixed(0)} s after the stop`);
      // Let any stray redelivery land before counting.
      await sleep(3000);
      const history = await historyProblems(env, sample);
      for (const f of history.facts) report.fact(f);
      for (const p of history.problems) report.fail(p);
      if (sinkRestarts === 0) report.fact('the sink process stayed up through the outage');
      const code = await stopChild(sink);
      report.check(code === 0, 'graceful stop exit 0', `graceful stop of the sink exited ${code}`);
      await env.close({ drop: report.problems.length === 0 });
    } finally {
      await killChild(sink).catch(() => undefined);
      await producer.close().catch(() => undefined);
      await env.close().catch(() => undefined);
    }
  },
};
