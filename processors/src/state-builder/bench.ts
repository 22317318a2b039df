import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { buildStories, produceEvents } from './scenarios.ts';
import { createStateTestEnv, createTestStateBuilder, groupLag } from './test-env.ts';

/**
 * Events per second through the state builder, on its own topics and key prefix:
 *
 *   tsx processors/src/state-builder/bench.ts [events=200000] [partitions=6]
 *
 * Produces the events first, then starts the builder (with StateChange publishing, as in
 * production) and times it from start until the group has committed everything. With
 * STATE_BENCH_CPU_PROFILE=<file.cpuprofile> the consuming phase alone is CPU-profiled. CPU per event is
 * this process's (the builder's) over the consuming phase.
 */
const target = Number(process.argv[2] ?? 200_000);
const partitions = Number(process.argv[3] ?? 6);
if (!Number.isInteger(target) || target < 1)
  throw new Error(`events must be a positive integer, got ${process.argv[2]}`);
if (!Number.isInteger(partitions) || partitions < 1)
  throw new Error(`partitions must be a positive integer, got ${process.argv[3]}`);

const t = await createStateTestEnv(partitions);
try {
  const stories = [];
  let events = 0;
  for (const s of buildStories(Math.ceil(target / 3), 0, 'bench')) {
    if (events >= target) break;
    stories.push(s);
    events += s.phase1.length + s.phase2.length;
  }
  const all = stories.flatMap((s) => [...s.phase1, ...s.phase2]);
  const produceStart = performance.now();
  await produceEvents(t.producer, t.codec, t.topics, all, 10_000);
  const produceSeconds = (performance.now() - produceStart) / 1000;

  const groupId = `${t.config.TOPIC_PREFIX}state-builder`;
  const builder = createTestStateBuilder(t, groupId, {
    stateChanges: { producer: t.producer },
    // The chunk size the state builder process runs with (config STATE_BUILDER_CHUNK).
    maxChunkSize: t.config.STATE_BUILDER_CHUNK,
  });
  const profileFile = t.config.STATE_BENCH_CPU_PROFILE;
  const session = profileFile ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await builder.start();
  for (;;) {
    if ((await groupLag(t.admin, t.topics, groupId)) === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  if (session && profileFile) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  }
  await builder.stop();
  process.stdout.write(
    `${JSON.stringify({
      events: all.length,
      numbers: stories.length,
      partitions,
      produceSeconds: Math.round(produceSeconds * 10) / 10,
      seconds: Math.round(seconds * 10) / 10,
      eventsPerSecond: Math.round(all.length / seconds),
      // This process's CPU (all threads) while the builder consumed, per event.
      cpuMicrosPerEvent: Math.round(((cpu.user + cpu.system) / all.length) * 10) / 10,
    })}\n`,
  );
} finally {
  await t.close();
}
