import type { DeadLetterEvent } from '@hub/schemas';
import { encodeState } from '@hub/state/encoding';
import { stateSlot } from '@hub/state/keys';
import { readState, readStored, UnreadableStateError } from '@hub/state/read';
import { emptyRecord, LINKAGE_LIMIT, type StateEvent } from '@hub/state/record';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateBuilder } from '../../processors/src/state-builder/builder.ts';
import { produceEvents } from '../../processors/src/state-builder/scenarios.ts';
import {
  createStateTestEnv,
  createTestStateBuilder,
  type StateTestEnv,
  waitForCatchUp,
} from '../../processors/src/state-builder/test-env.ts';

/**
 * No single number or event can stall the state builder: a number flooded with linkages stays a
 * bounded, readable record, and an event that cannot be applied is dead-lettered while the
 * partition (and every other partition of the round) goes on.
 */

let t: StateTestEnv;
let builder: StateBuilder;
let groupId: string;

const env = (day: string) => ({
  eventId: `e-${Math.random().toString(36).slice(2)}`,
  source: 'WEBHOOK',
  occurredAt: Date.parse(`${day}T00:00:00Z`),
  receivedAt: Date.now(),
});

const day = (i: number) =>
  new Date(Date.UTC(2015, 0, 1) + (i % 3000) * 86_400_000).toISOString().slice(0, 10);

function ninLink(msisdn: string, i: number): StateEvent {
  return {
    input: 'nin',
    event: {
      ...env(day(i)),
      msisdn,
      action: 'LINK',
      ninToken: (0x10_0000_0000 + i).toString(16).padStart(16, '0'),
      ninMasked: `*******${String(i % 10_000).padStart(4, '0')}`,
      linkDate: day(i),
    },
  };
}

function status(msisdn: string, date: string): StateEvent {
  return {
    input: 'status',
    event: {
      ...env(date),
      operator: 'MTN',
      msisdn,
      status: 'NORMAL',
      occurrenceDate: date,
      reassignmentDate: null,
      remarks: null,
      batchId: null,
    },
  };
}

async function readLetters(topic: string, expected: number): Promise<DeadLetterEvent[]> {
  const consumer = t.kafka.consumer({ groupId: `${groupId}-reader-${Math.random()}` });
  const got: DeadLetterEvent[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        got.push(await t.codec.decode('dead-letter', message.value));
        if (got.length >= expected) resolve();
      },
    });
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
  await consumer.disconnect();
  return got;
}

beforeAll(async () => {
  t = await createStateTestEnv(3);
  groupId = `${t.config.TOPIC_PREFIX}state-builder`;
  builder = createTestStateBuilder(t, groupId, { stateChanges: { producer: t.producer } });
  await builder.start();
});

afterAll(async () => {
  await builder?.stop();
  await t?.close();
});

describe('state builder: no single number or event stalls it', () => {
  it('takes 10,050 NIN links for one number, keeps the record bounded and readable, and every other number flows', async () => {
    const flooded = '2348031110001';
    const others = Array.from({ length: 30 }, (_, i) => `23480311${String(10_100 + i).padStart(5, '0')}`);
    await produceEvents(t.producer, t.codec, t.topics, [
      ...Array.from({ length: 10_050 }, (_, i) => ninLink(flooded, i)),
      ...others.map((m) => status(m, '2025-01-02')),
    ]);
    await waitForCatchUp(t.admin, t.topics, groupId, 90_000);

    const [reading, ...rest] = await readState(t.redis, t.config.REDIS_KEY_PREFIX, [flooded, ...others]);
    expect(reading?.record?.version).toBe(10_050);
    expect(reading?.record?.nin).toHaveLength(LINKAGE_LIMIT);
    expect(reading?.view?.droppedNinLinkages).toBe(10_050 - LINKAGE_LIMIT);
    expect(reading?.view?.activeNinLinkages).toBe(LINKAGE_LIMIT);
    const [stored] = await readStored(t.redis, t.config.REDIS_KEY_PREFIX, [flooded]);
    expect(stored?.bytes?.length).toBeLessThan(140);
    for (const r of rest) expect(r.record?.telecomStatus, r.msisdn).toBe('NORMAL');
  }, 120_000);

  it('dead-letters the events of a number whose stored record does not decode, and applies the rest', async () => {
    const damaged = '2348031120001';
    const healthy = '2348031120002';
    // A record as the encoder before the bound wrote it: LINKAGE_LIMIT + 1 linkages, which today's
    // decoder refuses (the count is patched in, the encoder itself refuses to write it).
    const full = encodeState({
      ...emptyRecord(),
      version: LINKAGE_LIMIT,
      nin: Array.from({ length: LINKAGE_LIMIT }, (_, i) => ({
        token: (0x20 + i).toString(16).padStart(16, '0'),
        masked: '*******0001',
        linkDate: '2020-01-01',
        unlinkedDate: null,
      })),
    });
    const countAt = full.length - 2 - LINKAGE_LIMIT * 12;
    expect(full[countAt]).toBe(LINKAGE_LIMIT);
    const extra = Buffer.from('00000000000000ff2c5f0001', 'hex');
    const legacy = Buffer.concat([
      full.subarray(0, countAt),
      Buffer.from([LINKAGE_LIMIT + 1]),
      full.subarray(countAt + 1, -1),
      extra,
      full.subarray(-1),
    ]);
    const slot = stateSlot(t.config.REDIS_KEY_PREFIX, damaged);
    await t.redis.hset(slot.key, slot.field, legacy);
    await expect(readState(t.redis, t.config.REDIS_KEY_PREFIX, [damaged])).rejects.toBeInstanceOf(
      UnreadableStateError,
    );

    await produceEvents(t.producer, t.codec, t.topics, [
      status(damaged, '2025-02-01'),
      status(healthy, '2025-02-01'),
    ]);
    await waitForCatchUp(t.admin, t.topics, groupId, 60_000);

    const [h] = await readState(t.redis, t.config.REDIS_KEY_PREFIX, [healthy]);
    expect(h?.record?.telecomStatus).toBe('NORMAL');
    const [d] = await readStored(t.redis, t.config.REDIS_KEY_PREFIX, [damaged]);
    expect(d?.bytes?.equals(legacy)).toBe(true);
    expect(d?.unreadable).toMatch(/NIN linkages 9 exceeds 8/);
    const letters = await readLetters(t.topics.deadLetters.statusUpdates, 1);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ step: 'state-record', sourceTopic: t.topics.statusUpdates });
    expect(letters[0]?.reason).toMatch(
      new RegExp(`stored state of ${damaged} cannot be read .*NIN linkages 9 exceeds 8.*rebuild`),
    );
  }, 90_000);

  it('dead-letters a directly produced event outside the validation contract with the field named, and applies the next', async () => {
    const msisdn = '2348031130001';
    await produceEvents(t.producer, t.codec, t.topics, [
      status(msisdn, '1950-03-01'),
      status(msisdn, '2025-03-01'),
    ]);
    await waitForCatchUp(t.admin, t.topics, groupId, 60_000);
    const [r] = await readState(t.redis, t.config.REDIS_KEY_PREFIX, [msisdn]);
    expect(r?.record).toMatchObject({ version: 1, statusDate: '2025-03-01' });
    const letters = await readLetters(t.topics.deadLetters.statusUpdates, 2);
    const letter = letters.find((l) => l.step === 'apply');
    expect(letter?.reason).toBe(
      "occurrenceDate '1950-03-01' is outside the supported range 1990-01-01..2105-12-31",
    );
  }, 90_000);
});
