import type { DeadLetterEvent, StateChangeEvent } from '@hub/schemas';
import { readState } from '@hub/state/read';
import type { StateEvent } from '@hub/state/record';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../processors/src/kafka/dead-letters.ts';
import { partitionForKey } from '../../processors/src/kafka/decoders.ts';
import type { StateBuilder } from '../../processors/src/state-builder/builder.ts';
import {
  buildStories,
  encodeEvent,
  predict,
  produceEvents,
} from '../../processors/src/state-builder/scenarios.ts';
import {
  createStateTestEnv,
  createTestStateBuilder,
  type StateTestEnv,
  waitForCatchUp,
} from '../../processors/src/state-builder/test-env.ts';

let t: StateTestEnv;
let builder: StateBuilder;
let groupId: string;

async function consumeAll(topic: string, expected: number) {
  const consumer = t.kafka.consumer({ groupId: `${groupId}-reader-${topic}` });
  const got: { key: string; value: Buffer; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        got.push({ key: message.key?.toString() ?? '', value: message.value ?? Buffer.alloc(0), headers });
        if (got.length >= expected) resolve();
      },
    });
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  await consumer.disconnect();
  return got;
}

beforeAll(async () => {
  t = await createStateTestEnv(3);
  groupId = `${t.config.TOPIC_PREFIX}state-builder`;
  builder = createTestStateBuilder(t, groupId, {
    stateChanges: { producer: t.producer },
    maxChunkSize: 200,
  });
  await builder.start();
});

afterAll(async () => {
  await builder?.stop();
  await t?.close();
});

describe('state builder (Kafka → Redis)', () => {
  const stories = buildStories(300, 1_000_000, 'flow');

  it('builds exactly the records the state machine predicts for a few hundred hand-built numbers', async () => {
    await produceEvents(
      t.producer,
      t.codec,
      t.topics,
      stories.flatMap((s) => s.phase1),
    );
    await waitForCatchUp(t.admin, t.topics, groupId);
    await produceEvents(
      t.producer,
      t.codec,
      t.topics,
      stories.flatMap((s) => s.phase2),
    );
    await waitForCatchUp(t.admin, t.topics, groupId);

    const readings = await readState(
      t.redis,
      t.config.REDIS_KEY_PREFIX,
      stories.map((s) => s.msisdn),
    );
    stories.forEach((story, i) => {
      const reading = readings[i]!;
      expect(reading.record, story.msisdn).not.toBeNull();
      const { offsets, ...stored } = reading.record!;
      const { offsets: _ignored, ...predicted } = predict([...story.phase1, ...story.phase2]);
      expect(stored, `${story.kind} ${story.msisdn}`).toEqual(predicted);
      expect(reading.view?.lifecycleStatus, `${story.kind} ${story.msisdn}`).toBe(story.expectedLifecycle);
      for (const input of ['status', 'nin', 'bvn', 'delink'] as const) {
        const used = [...story.phase1, ...story.phase2].some((e) => e.input === input);
        expect(offsets[input] !== null, `${story.msisdn} ${input} offset`).toBe(used);
      }
    });
  });

  it('publishes each number’s latest state to the state-changes topic, keyed by msisdn', async () => {
    const highs = await t.admin.fetchTopicOffsets(t.topics.stateChanges);
    const total = highs.reduce((n, p) => n + Number(p.high), 0);
    const messages = await consumeAll(t.topics.stateChanges, total);
    const latest = new Map<string, StateChangeEvent>();
    for (const m of messages) {
      const v = await t.codec.decode('state-change', m.value);
      expect(m.key).toBe(v.msisdn);
      const prev = latest.get(v.msisdn);
      if (!prev || v.version > prev.version) latest.set(v.msisdn, v);
    }
    const readings = await readState(
      t.redis,
      t.config.REDIS_KEY_PREFIX,
      stories.map((s) => s.msisdn),
    );
    for (const r of readings) {
      const change = latest.get(r.msisdn);
      expect(change?.version, r.msisdn).toBe(r.view?.version);
      expect(change?.lifecycleStatus).toBe(r.view?.lifecycleStatus);
      expect(change?.conflicts).toEqual(r.view?.conflicts);
    }
  });

  it('dead-letters garbage, a bad msisdn and a misrouted record with provenance, and the partition keeps flowing', async () => {
    const msisdn = '2348039999001';
    const partitions = 3;
    const partition = partitionForKey(msisdn, partitions);
    const good = buildStories(1, 9_999_001, 'poison')[0]!;
    expect(good.msisdn).toBe(msisdn);
    const valid = good.phase1.find((e) => e.input === 'status')!;
    const badMsisdn = {
      ...valid,
      event: { ...valid.event, msisdn: '08039999001' },
    } as StateEvent;
    const garbage = Buffer.from('definitely not avro');
    const topic = t.topics.statusUpdates;
    await t.producer.send({
      topic,
      messages: [
        { key: msisdn, value: garbage, partition },
        { key: msisdn, value: encodeEvent(t.codec, badMsisdn), partition },
        { key: msisdn, value: encodeEvent(t.codec, valid), partition: (partition + 1) % partitions },
        { key: msisdn, value: encodeEvent(t.codec, valid), partition },
      ],
    });
    await waitForCatchUp(t.admin, t.topics, groupId);

    const [reading] = await readState(t.redis, t.config.REDIS_KEY_PREFIX, [msisdn]);
    expect(reading?.record?.telecomStatus).toBe('NORMAL');
    expect(reading?.record?.version).toBe(1);

    const letters = await consumeAll(t.topics.deadLetters.statusUpdates, 3);
    expect(letters).toHaveLength(3);
    const decoded: { letter: DeadLetterEvent; headers: Record<string, string>; key: string }[] = [];
    for (const m of letters) {
      decoded.push({ letter: await t.codec.decode('dead-letter', m.value), headers: m.headers, key: m.key });
    }
    const byStep = (step: string) => {
      const found = decoded.find((d) => d.letter.step === step);
      if (!found) throw new Error(`no dead letter from step ${step}`);
      return found;
    };
    const [g, b, w] = [byStep('decode'), byStep('validate'), byStep('partition')];
    for (const d of decoded) {
      expect(d.key).toBe(msisdn);
      expect(d.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(topic);
      expect(d.headers[DEAD_LETTER_HEADERS.sourceOffset]).toBe(d.letter.sourceOffset);
      expect(d.headers[DEAD_LETTER_HEADERS.sourcePartition]).toBe(String(d.letter.sourcePartition));
      expect(Number.isNaN(Date.parse(d.headers[DEAD_LETTER_HEADERS.failedAt] ?? ''))).toBe(false);
      expect(d.headers[DEAD_LETTER_HEADERS.reason]).toBe(d.letter.reason);
    }
    expect(g.letter.sourcePartition).toBe(partition);
    expect(b.letter.sourceOffset).toBe((BigInt(g.letter.sourceOffset) + 1n).toString());
    expect(g.letter.reason).toMatch(/magic byte is 100/);
    expect(g.letter.value?.equals(garbage)).toBe(true);
    expect(b.letter.reason).toMatch(/not canonical|expected 10, 11 or 13|msisdn/);
    expect(w.letter.reason).toMatch(new RegExp(`hashes to partition ${partition} of 3`));
    expect(w.letter.sourcePartition).toBe((partition + 1) % partitions);
  });
});
