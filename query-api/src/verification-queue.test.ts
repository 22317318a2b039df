import { describe, expect, it } from 'vitest';
import { type NewVerification, VerificationQueue } from './verification-queue.ts';

const record = (msisdn: string): NewVerification => ({
  source: 'API',
  requestId: 'r1',
  organisation: 'BANK',
  msisdn,
  channel: 'SINGLE',
  verificationStatus: 'VERIFIED',
  telecomStatus: 'NORMAL',
  lifecycleStatus: null,
  occurredAt: 0,
  receivedAt: 0,
});

describe('VerificationQueue', () => {
  it('sends what was recorded in one batch per flush, in order', async () => {
    const sent: string[][] = [];
    const queue = new VerificationQueue(async (events) => void sent.push(events.map((e) => e.msisdn)), {
      flushIntervalMs: 60_000,
    });
    queue.record([record('1'), record('2')]);
    queue.record([record('3')]);
    await queue.flush();
    queue.record([record('4')]);
    await queue.close();
    expect(sent).toEqual([['1', '2', '3'], ['4']]);
    expect(queue.queued).toBe(0);
  });

  it('flushes on its own after the interval', async () => {
    const sent: string[] = [];
    const queue = new VerificationQueue(async (events) => void sent.push(...events.map((e) => e.msisdn)), {
      flushIntervalMs: 5,
    });
    queue.record([record('1')]);
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toEqual(['1']);
    await queue.close();
  });

  it('keeps a refused batch in front and drops the oldest beyond its bound, counting them', async () => {
    let refuse = true;
    const sent: string[] = [];
    let dropped = 0;
    const queue = new VerificationQueue(
      async (events) => {
        if (refuse) throw new Error('broker unreachable');
        sent.push(...events.map((e) => e.msisdn));
      },
      {
        maxQueued: 3,
        flushIntervalMs: 60_000,
        retryMs: 60_000,
        onDropped: (n) => {
          dropped += n;
        },
      },
    );
    queue.record([record('1'), record('2')]);
    await queue.flush();
    expect(queue.queued).toBe(2);
    queue.record([record('3'), record('4')]);
    expect(dropped).toBe(1);
    refuse = false;
    await queue.close();
    expect(sent).toEqual(['2', '3', '4']);
  });
});
