import type { StateChangeEvent } from '@hub/schemas';
import { describe, expect, it } from 'vitest';
import { stateChangeBodies, stateChangeCloudEvent, webhookId } from './cloud-events.ts';

const change = {
  eventId: 'e-1',
  msisdn: '2348031234567',
  version: 7,
  telecomStatus: 'CHURNED',
  lifecycleStatus: 'ACTIVE',
  statusDate: '2026-11-30',
  reassignmentDate: null,
  operator: 'MTN',
  occurredAt: Date.UTC(2026, 10, 30, 12),
} as unknown as StateChangeEvent;
const before = { telecom: 'NORMAL', lifecycle: 'ACTIVE' };

describe('stateChangeBodies', () => {
  it('gives each subscription the bytes JSON.stringify gives its own event', () => {
    const bodyOf = stateChangeBodies('CHURNED', change, before);
    for (const sub of ['whsub_a', 'whsub_b']) {
      const id = webhookId(sub, change.eventId, 'CHURNED');
      expect(bodyOf(id)).toBe(JSON.stringify(stateChangeCloudEvent(id, 'CHURNED', change, before)));
    }
  });

  it('escapes an id as JSON does', () => {
    const bodyOf = stateChangeBodies('CHURNED', change, before);
    expect(bodyOf('a"b\\c')).toBe(JSON.stringify(stateChangeCloudEvent('a"b\\c', 'CHURNED', change, before)));
  });
});
