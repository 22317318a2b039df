import { topicNames } from '@hub/infra';
import type { EventCodec } from '@hub/schemas';
import type { Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  type DeadLetterInput,
  decodeDeadLetterOwner,
  HISTORY_SINK,
  KafkaDeadLetters,
  STATE_BUILDER,
} from './dead-letters.ts';

/** A producer that records what it is asked to send, and a codec that needs no registry. */
function fakes() {
  const sent: { topic: string; count: number }[] = [];
  const producer = {
    async sendBatch(batch: ProducerBatch) {
      for (const t of batch.topicMessages ?? []) sent.push({ topic: t.topic, count: t.messages.length });
      return [];
    },
  } as unknown as Producer;
  const codec = {
    async register() {},
    encode: (_kind: string, value: unknown) =>
      Buffer.from(JSON.stringify(value, (_k, v) => (Buffer.isBuffer(v) ? null : v))),
  } as unknown as EventCodec;
  return { sent, producer, codec };
}

const letter = (sourceTopic: string, step: string): DeadLetterInput => ({
  sourceTopic,
  sourcePartition: 0,
  sourceOffset: '7',
  step,
  reason: 'no magic byte',
  key: Buffer.from('2348031234567'),
  value: Buffer.from('garbage'),
});

describe('dead letters: one owner per source topic', () => {
  const t = topicNames('hub.');

  it('names the state builder for its four inputs and the history sink for every other topic', () => {
    for (const topic of [t.statusUpdates, t.ninLinkages, t.bvnLinkages, t.delink, t.dataSubject])
      expect(decodeDeadLetterOwner(topic)).toBe(STATE_BUILDER);
    for (const topic of [t.verifications, t.stateChanges, t.audit, t.recycledSims])
      expect(decodeDeadLetterOwner(topic)).toBe(HISTORY_SINK);
    expect(decodeDeadLetterOwner(topicNames('test-1a2b.').ninLinkages)).toBe(STATE_BUILDER);
  });

  it('publishes an undecodable input record once when both consumer groups report it', async () => {
    const { sent, producer, codec } = fakes();
    const sink = new KafkaDeadLetters(producer, codec);
    const bad = letter(t.statusUpdates, 'decode');
    await sink.publish([bad], STATE_BUILDER);
    await sink.publish([bad], HISTORY_SINK);
    expect(sent).toEqual([{ topic: `${t.statusUpdates}.dlq`, count: 1 }]);
  });

  it('publishes a verification that does not decode from the history sink, its only reader', async () => {
    const { sent, producer, codec } = fakes();
    const sink = new KafkaDeadLetters(producer, codec);
    await sink.publish([letter(t.verifications, 'decode')], HISTORY_SINK);
    expect(sent).toEqual([{ topic: `${t.verifications}.dlq`, count: 1 }]);
  });

  it('never leaves a decode failure unpublished by the state builder, whatever it reads', async () => {
    const { sent, producer, codec } = fakes();
    const sink = new KafkaDeadLetters(producer, codec);
    await sink.publish([letter(t.dataSubject, 'decode')], STATE_BUILDER);
    await sink.publish([letter(t.dataSubject, 'decode')], HISTORY_SINK);
    expect(sent).toEqual([{ topic: `${t.dataSubject}.dlq`, count: 1 }]);
  });

  it('always publishes failures at a consumer’s own steps', async () => {
    const { sent, producer, codec } = fakes();
    const sink = new KafkaDeadLetters(producer, codec);
    await sink.publish([letter(t.statusUpdates, 'history-row')], HISTORY_SINK);
    await sink.publish([letter(t.statusUpdates, 'validate')], STATE_BUILDER);
    expect(sent).toEqual([
      { topic: `${t.statusUpdates}.dlq`, count: 1 },
      { topic: `${t.statusUpdates}.dlq`, count: 1 },
    ]);
  });
});
