import { repoRoot } from '@hub/infra';
import { encodeState } from '@hub/state/encoding';
import { stateSlot } from '@hub/state/keys';
import { readState, readStored } from '@hub/state/read';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, run } from '../../infra/local/process.ts';
import { jsonLog } from '../../processors/src/kafka/logger.ts';
import { checksumState } from '../../processors/src/rebuild/projection.ts';
import { replayIntoRedis } from '../../processors/src/rebuild/replay.ts';
import { buildStories, predict, produceEvents } from '../../processors/src/state-builder/scenarios.ts';
import {
  createStateTestEnv,
  createTestStateBuilder,
  type StateTestEnv,
  waitForCatchUp,
} from '../../processors/src/state-builder/test-env.ts';

let t: StateTestEnv;

beforeAll(async () => {
  t = await createStateTestEnv(3);
});

afterAll(async () => {
  await t?.close();
});

function runRebuild(...args: string[]): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', 'processors/src/rebuild/cli.ts', 'redis', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...t.env },
  });
}

describe('rebuild of the Redis state projection', () => {
  // Every kind of story, recycled-then-cleaned-up ones included: the live run consumes each
  // story's delinks after its other events, the replay interleaves the topics however it reads them.
  const stories = buildStories(600, 3_000_000, 'rebuild');
  // These stories' delinks are published, and consumed, before the linkages they clear exist.
  const early = buildStories(120, 3_100_000, 'early');
  const all = [...stories, ...early];

  it('builds the predicted state when delinks are consumed before the linkages they clear', async () => {
    const groupId = `${t.config.TOPIC_PREFIX}state-builder`;
    const builder = createTestStateBuilder(t, groupId);
    await builder.start();
    try {
      await produceEvents(t.producer, t.codec, t.topics, [
        ...stories.flatMap((s) => s.phase1),
        ...early.flatMap((s) => s.phase2),
      ]);
      await waitForCatchUp(t.admin, t.topics, groupId);
      await produceEvents(t.producer, t.codec, t.topics, [
        ...stories.flatMap((s) => s.phase2),
        ...early.flatMap((s) => s.phase1),
      ]);
      await waitForCatchUp(t.admin, t.topics, groupId);
    } finally {
      await builder.stop();
    }
    const readings = await readState(
      t.redis,
      t.config.REDIS_KEY_PREFIX,
      all.map((s) => s.msisdn),
    );
    all.forEach((story, i) => {
      const reading = readings[i]!;
      const { offsets: _stored, ...stored } = reading.record!;
      const { offsets: _predicted, ...predicted } = predict([...story.phase1, ...story.phase2]);
      expect(stored, `${story.kind} ${story.msisdn}`).toEqual(predicted);
      expect(reading.view?.lifecycleStatus, `${story.kind} ${story.msisdn}`).toBe(story.expectedLifecycle);
    });
    expect(early.filter((s) => s.expectedLifecycle === 'AVAILABLE').length).toBeGreaterThan(10);
  });

  it('drops and replays the state into byte-identical records, touching no other keys', async () => {
    const sentinel = `${t.config.REDIS_KEY_PREFIX}not-state`;
    await t.redis.set(sentinel, 'kept');
    const before = await checksumState(t.redis, t.config.REDIS_KEY_PREFIX);
    expect(before.records).toBe(all.length);

    const run = await runRebuild();
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(run.stdout) as {
      equal: boolean;
      before: unknown;
      after: unknown;
      replayed: number;
    };
    // Printed so the checksum evidence is visible in the test output.
    console.log(`rebuild checksums: ${JSON.stringify({ before: report.before, after: report.after })}`);
    expect(report.equal).toBe(true);
    expect(report.before).toEqual(before);
    expect(report.after).toEqual(before);
    expect(report.replayed).toBe(all.reduce((n, s) => n + s.phase1.length + s.phase2.length, 0));
    expect(run.stderr).toMatch(/replay \[#+\] 100\.0%/);
    expect(await t.redis.get(sentinel)).toBe('kept');
  });

  it('replays with three members on worker threads (partition p of every topic to one) into the same bytes', async () => {
    const before = await checksumState(t.redis, t.config.REDIS_KEY_PREFIX);
    const run = await runRebuild('--threads', '3');
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(run.stdout) as { equal: boolean; after: unknown };
    expect(report.equal).toBe(true);
    expect(report.after).toEqual(before);
    expect(run.stderr).toContain('3 threads');
    const bad = await runRebuild('--threads', 'two');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--threads must be a whole number from 1 to 64, got 'two'");
  });

  it('fails, naming the member, when a member on a worker thread cannot start', async () => {
    const config = { ...t.config, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' };
    await expect(
      replayIntoRedis(config, {
        groupId: `${t.config.TOPIC_PREFIX}rebuild-unstartable`,
        log: jsonLog('rebuild-test', 'error'),
        threads: 2,
      }),
    ).rejects.toThrow(/replay member failed/);
  });

  it('reports "not equal" and exits 1 when the projection had drifted from the topics', async () => {
    const victim = stories[3]!.msisdn;
    const [stored] = await readStored(t.redis, t.config.REDIS_KEY_PREFIX, [victim]);
    const drifted = { ...stored!.record!, version: stored!.record!.version + 7 };
    const slot = stateSlot(t.config.REDIS_KEY_PREFIX, victim);
    await t.redis.hset(slot.key, slot.field, encodeState(drifted));

    const run = await runRebuild();
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as { equal: boolean }).equal).toBe(false);
    // The rebuild itself restored the record the topics describe.
    const [after] = await readStored(t.redis, t.config.REDIS_KEY_PREFIX, [victim]);
    expect(after?.bytes?.equals(stored!.bytes!)).toBe(true);
  });
});
