import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot } from '@hub/infra';
import { readStored } from '@hub/state/read';
import type { StateEvent } from '@hub/state/record';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoggedDeadLetters } from '../../processors/src/kafka/dead-letters.ts';
import type { StateBuilder } from '../../processors/src/state-builder/builder.ts';
import { buildStories, predict, produceEvents } from '../../processors/src/state-builder/scenarios.ts';
import {
  createStateTestEnv,
  createTestStateBuilder,
  type StateTestEnv,
  waitForCatchUp,
} from '../../processors/src/state-builder/test-env.ts';

let t: StateTestEnv;
let clean: StateBuilder;
const children = new Set<ChildProcess>();
const readiness = new WeakMap<ChildProcess, Promise<void>>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  t = await createStateTestEnv(3);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await clean?.stop();
  await t?.close();
});

function startChild(groupId: string): ChildProcess {
  // `node --import tsx` keeps the builder in this one process, so SIGKILL hits the builder itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'processors/src/main-state-builder.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...t.env,
      LOG_LEVEL: 'info',
      STATE_BUILDER_GROUP: groupId,
      METRICS_PORT: '0',
      STATE_BUILDER_CHUNK: '50',
      // A killed member holds its partitions until its session expires: keep that short here.
      STATE_BUILDER_SESSION_TIMEOUT_MS: '6000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
      if (log.includes('state builder running')) resolve();
    });
  });
  readiness.set(child, ready);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Produces events in small slices while killing and restarting the builder at random moments. */
async function produceWhileKilling(
  events: StateEvent[],
  groupId: string,
  state: { child: ChildProcess; kills: number },
  minKills: number,
): Promise<void> {
  let producing = true;
  const producer = (async () => {
    for (let i = 0; i < events.length; i += 150) {
      await produceEvents(t.producer, t.codec, t.topics, events.slice(i, i + 150));
      await sleep(150);
    }
    producing = false;
  })();
  let killsHere = 0;
  while (producing || killsHere < minKills) {
    await sleep(1200 + Math.random() * 2000);
    await killHard(state.child);
    state.kills++;
    killsHere++;
    state.child = startChild(groupId);
  }
  await producer;
}

describe('state builder crash safety', () => {
  it('ends with the same Redis state as a clean run after repeated kill -9 mid-stream', async () => {
    const stories = buildStories(800, 2_000_000, 'crash');
    const groupId = `${t.config.TOPIC_PREFIX}state-builder`;
    const cleanPrefix = `${t.config.REDIS_KEY_PREFIX}clean:`;
    // The clean run consumes the same topics alongside, with its own group and key prefix.
    clean = createTestStateBuilder(t, `${groupId}-clean`, {
      redisKeyPrefix: cleanPrefix,
      deadLetters: new LoggedDeadLetters(() => {}),
    });
    await clean.start();

    const state = { child: startChild(groupId), kills: 0 };
    await produceWhileKilling(
      stories.flatMap((s) => s.phase1),
      groupId,
      state,
      4,
    );
    await waitForCatchUp(t.admin, t.topics, groupId, 90_000);
    await waitForCatchUp(t.admin, t.topics, `${groupId}-clean`, 90_000);
    await produceWhileKilling(
      stories.flatMap((s) => s.phase2),
      groupId,
      state,
      1,
    );
    await waitForCatchUp(t.admin, t.topics, groupId, 90_000);
    await waitForCatchUp(t.admin, t.topics, `${groupId}-clean`, 90_000);
    expect(state.kills).toBeGreaterThanOrEqual(5);

    // Graceful stop drains, commits and exits 0.
    await Promise.race([
      readiness.get(state.child),
      sleep(60_000).then(() => {
        throw new Error('restarted state builder did not report running within 60 s');
      }),
    ]);
    const exited = once(state.child, 'exit');
    state.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);

    const msisdns = stories.map((s) => s.msisdn);
    const crashed = await readStored(t.redis, t.config.REDIS_KEY_PREFIX, msisdns);
    const reference = await readStored(t.redis, cleanPrefix, msisdns);
    let compared = 0;
    stories.forEach((story, i) => {
      const got = crashed[i]!;
      const want = reference[i]!;
      expect(got.bytes, story.msisdn).not.toBeNull();
      // Byte-identical, offsets and version included: no event lost or applied twice.
      expect(got.bytes?.equals(want.bytes ?? Buffer.alloc(0)), `${story.kind} ${story.msisdn}`).toBe(true);
      const { offsets: _a, ...record } = got.record!;
      const { offsets: _b, ...predicted } = predict([...story.phase1, ...story.phase2]);
      expect(record, `${story.kind} ${story.msisdn}`).toEqual(predicted);
      compared++;
    });
    expect(compared).toBe(stories.length);
  }, 240_000);
});
