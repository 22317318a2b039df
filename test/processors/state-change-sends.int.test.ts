import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateBuilder } from '../../processors/src/state-builder/builder.ts';
import { buildStories, produceEvents } from '../../processors/src/state-builder/scenarios.ts';
import {
  createStateTestEnv,
  createTestStateBuilder,
  type StateTestEnv,
  waitForCatchUp,
} from '../../processors/src/state-builder/test-env.ts';

let t: StateTestEnv;
let builder: StateBuilder;
let groupId: string;
let inFlight = 0;
let mostInFlight = 0;
let sends = 0;

/** The test's producer, counting the sends that overlap. */
function countingSends(producer: Producer): Producer {
  return {
    ...producer,
    send: async (record) => {
      sends++;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        return await producer.send(record);
      } finally {
        inFlight--;
      }
    },
  };
}

beforeAll(async () => {
  t = await createStateTestEnv(2);
  groupId = `${t.config.TOPIC_PREFIX}state-change-sends`;
  builder = createTestStateBuilder(t, groupId, {
    stateChanges: { producer: countingSends(t.producer) },
    maxChunkSize: 5_000,
  });
  await builder.start();
});

afterAll(async () => {
  await builder?.stop();
  await t?.close();
});

describe('state builder: StateChange sends', () => {
  it('sends a round of thousands of changes in slices, one after another, and loses none', async () => {
    const stories = buildStories(3_000, 3_000_000, 'sends');
    await produceEvents(
      t.producer,
      t.codec,
      t.topics,
      stories.flatMap((s) => s.phase1),
    );
    await waitForCatchUp(t.admin, t.topics, groupId);

    // More than one slice per round, so overlapping sends would have shown.
    expect(sends).toBeGreaterThan(1);
    expect(mostInFlight).toBe(1);
    const highs = await t.admin.fetchTopicOffsets(t.topics.stateChanges);
    const published = highs.reduce((n, p) => n + Number(p.high), 0);
    expect(published).toBeGreaterThanOrEqual(stories.length);
  });
});
