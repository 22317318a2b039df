import { describe, expect, it } from 'vitest';
import { sourceTopics, topicNames, topicSpecs } from './topics.ts';

describe('topicNames', () => {
  it('builds every name from the prefix, with a dead-letter topic per source topic', () => {
    const names = topicNames('t1.');
    expect(names.statusUpdates).toBe('t1.status-updates');
    expect(names.stateChanges).toBe('t1.state-changes');
    expect(names.deadLetters.statusUpdates).toBe('t1.status-updates.dlq');
    expect(Object.keys(names.deadLetters).sort()).toEqual([...sourceTopics].sort());
  });
});

describe('topicSpecs', () => {
  it('compacts state changes and gives every topic the same partition count', () => {
    const specs = topicSpecs('hub.', 6);
    expect(new Set(specs.map((s) => s.numPartitions))).toEqual(new Set([6]));
    const stateChanges = specs.find((s) => s.topic === 'hub.state-changes');
    expect(stateChanges?.configEntries).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    const subscriptions = specs.find((s) => s.topic === 'hub.webhook-subscriptions');
    expect(subscriptions?.configEntries).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    expect(specs).toHaveLength(sourceTopics.length * 2);
    expect(new Set(specs.map((s) => s.topic)).size).toBe(specs.length);
  });
});
