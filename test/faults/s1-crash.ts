import { RAW_TABLES } from '@hub/state/history/tables';
import { groupLag } from '../../processors/src/state-builder/test-env.ts';
import {
  type Child,
  createFaultEnv,
  highWater,
  killChild,
  scalar,
  sleep,
  startHistorySink,
  startStateBuilder,
  stopChild,
  waitReady,
} from './env.ts';
import {
  compareState,
  historyProblems,
  INPUT_TABLES,
  lastOffsets,
  makeSample,
  sampleProducer,
  stateProblems,
  waitForHistory,
} from './oracle.ts';
import { Rand, type Scenario } from './scenario.ts';

/**
 * SIGKILL the state builder (and now and then the history sink) at random moments while a sample
 * streams in; the final Redis state must equal the generator's, offsets and versions included, and
 * ClickHouse must hold every record once.
 */
export const crashScenario: Scenario = {
  id: 1,
  title: 'kill -9 of the state builder and history sink while a sample streams in',
  stopsServices: false,
  async run(ctx, report) {
    const rand = new Rand(ctx.seed ^ 0x1111);
    const numbers = ctx.quick ? 1200 : 3000;
    const minKills = ctx.quick ? 8 : 20;
    const env = await createFaultEnv(ctx.run, 's1');
    const sample = makeSample(numbers, ctx.seed, env.config.TOKEN_SECRET);
    report.step(
      `sample: ${numbers} numbers, ${sample.events.length} deliveries (seed ${ctx.seed}), topics ${env.config.TOPIC_PREFIX}*`,
    );
    const producer = await sampleProducer(env);
    let builder: Child = startStateBuilder(env);
    let sink: Child = startHistorySink(env);
    let builderKills = 0;
    let sinkKills = 0;
    try {
      await Promise.all([waitReady(builder), waitReady(sink)]);
      const slices = minKills * 2;
      const sliceSize = Math.ceil(sample.events.length / slices);
      let producing = true;
      const streaming = (async () => {
        for (let i = 0; i < sample.events.length; i += sliceSize) {
          await producer.send(sample.events.slice(i, i + sliceSize));
          await sleep(900);
        }
        producing = false;
      })();
      streaming.catch(() => {
        producing = false;
      });
      const started = Date.now();
      while (producing || builderKills < minKills) {
        await sleep(rand.int(700, 2600));
        // Kill while it is running, not while it is still starting: that is when it holds work.
        await Promise.race([builder.ready, sleep(15_000)]).catch(() => undefined);
        await sleep(rand.int(0, 900));
        await killChild(builder, 'SIGKILL');
        builderKills++;
        builder = startStateBuilder(env);
        if (rand.chance(0.3)) {
          await killChild(sink, 'SIGKILL');
          sinkKills++;
          sink = startHistorySink(env);
        }
      }
      await streaming;
      report.step(
        `streamed ${sample.events.length} records in ${((Date.now() - started) / 1000).toFixed(0)} s; SIGKILLed the state builder ${builderKills} times and the history sink ${sinkKills} times at random moments`,
      );
      await Promise.all([waitReady(builder, 120_000), waitReady(sink, 120_000)]);
      const groupId = `${env.config.TOPIC_PREFIX}state-builder`;
      const deadline = Date.now() + 180_000;
      let lag = await groupLag(env.admin, env.topics, groupId);
      while (lag > 0 && Date.now() < deadline) {
        await sleep(500);
        lag = await groupLag(env.admin, env.topics, groupId);
      }
      report.check(
        lag === 0,
        'state builder caught up (lag 0)',
        `state builder still ${lag} records behind after 180 s`,
      );
      const pairs: [string, string][] = INPUT_TABLES.map(([kind, key]) => [
        env.topics[key] as string,
        RAW_TABLES[kind],
      ]);
      pairs.push([env.topics.stateChanges, RAW_TABLES['state-change']]);
      const late = await waitForHistory(env, pairs, 240_000);
      if (late) report.fail(`history sink did not catch up: ${late}`);

      const builderExit = await stopChild(builder);
      const sinkExit = await stopChild(sink);
      report.check(
        builderExit === 0 && sinkExit === 0,
        'graceful SIGTERM after the run: both exit 0',
        `graceful stop exit codes: state builder ${builderExit}, history sink ${sinkExit}`,
      );

      const offsets = await lastOffsets(env);
      const cmp = await compareState(env, sample.expected, offsets);
      report.fact(
        `compared ${cmp.compared} numbers with the expected state (fields, version, per-topic offsets)`,
      );
      const sp = stateProblems(cmp);
      for (const p of sp) report.fail(p);
      if (sp.length === 0)
        report.fact('0 lost, 0 double-applied: every record equals the oracle, versions and offsets match');

      const history = await historyProblems(env, sample);
      for (const f of history.facts) report.fact(f);
      for (const p of history.problems) report.fail(p);
      const changes = await highWater(env.admin, env.topics.stateChanges);
      const changeRows = await scalar(
        env.clickhouse,
        `SELECT count() FROM ${env.db}.${RAW_TABLES['state-change']}`,
      );
      const dupChanges = await scalar(
        env.clickhouse,
        `SELECT count() FROM (SELECT kafka_partition, kafka_offset FROM ${env.db}.${RAW_TABLES['state-change']} GROUP BY kafka_partition, kafka_offset HAVING count() > 1)`,
      );
      report.check(
        changeRows === changes && dupChanges === 0,
        `state_changes_v1: ${changeRows} rows for ${changes} state-change records, none twice`,
        `state_changes_v1: ${changeRows} rows for ${changes} records, ${dupChanges} offsets twice`,
      );
      await env.close({ drop: report.problems.length === 0 });
    } finally {
      await killChild(builder).catch(() => undefined);
      await killChild(sink).catch(() => undefined);
      await producer.close().catch(() => undefined);
      await env.close().catch(() => undefined);
    }
  },
};
