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

/** A sink that behaves like a broker with a size limit: a request over `limit` records is refused as too large. */
function brokerSink(limit: number) {
  const sent: string[] = [];
  const requests: number[] = [];
  const sink = async (events: NewVerification[]) => {
    requests.push(events.length);
    if (events.length > limit) {
      throw Object.assign(new Error('The request included a message larger than the max message size'), {
        name: 'KafkaJSProtocolError',
        type: 'MESSAGE_TOO_LARGE',
        retriable: false,
      });
    }
    sent.push(...events.map((e) => e.msisdn));
  };
  return { sink, sent, requests };
}

describe('VerificationQueue after a Kafka outage', () => {
  it('drains a backlog in slices the broker accepts, in order, without dropping any', async () => {
    const broker = brokerSink(2_000);
    let down = true;
    const queue = new VerificationQueue(
      async (events) => {
        if (down) throw new Error('Connection error: connect ECONNREFUSED');
        await broker.sink(events);
      },
      { flushIntervalMs: 60_000, retryMs: 60_000 },
    );
    const backlog = Array.from({ length: 9_001 }, (_, i) => record(String(i)));
    queue.record(backlog);
    await queue.flush();
    expect(queue.queued).toBe(9_001);
    down = false;
    await queue.close();
    expect(queue.queued).toBe(0);
    expect(broker.sent).toEqual(backlog.map((r) => r.msisdn));
    expect(Math.max(...broker.requests)).toBeLessThanOrEqual(2_000);
  });

  it('drops and counts a record the broker refuses as invalid, and sends the others', async () => {
    const sent: string[] = [];
    const dropped: [number, string][] = [];
    const queue = new VerificationQueue(
      async (events) => {
        if (events.some((e) => e.msisdn === 'bad')) {
          throw Object.assign(new Error('invalid record'), {
            name: 'KafkaJSProtocolError',
            type: 'INVALID_RECORD',
            retriable: false,
          });
        }
        sent.push(...events.map((e) => e.msisdn));
      },
      { flushIntervalMs: 60_000, onDropped: (n, reason) => void dropped.push([n, reason]) },
    );
    queue.record([record('1'), record('2'), record('bad'), record('4'), record('5')]);
    await queue.close();
    expect(sent).toEqual(['1', '2', '4', '5']);
    expect(dropped).toEqual([[1, 'refused-by-broker']]);
    expect(queue.dropped).toEqual({ 'backlog-full': 0, 'refused-by-broker': 1 });
  });

  it('does not wait forever on a send that never settles', async () => {
    let attempts = 0;
    const sent: string[] = [];
    const queue = new VerificationQueue(
      (events) => {
        attempts++;
        if (attempts === 1) return new Promise<void>(() => {});
        sent.push(...events.map((e) => e.msisdn));
        return Promise.resolve();
      },
      { flushIntervalMs: 60_000, retryMs: 60_000, sendTimeoutMs: 50 },
    );
    queue.record([record('1')]);
    await queue.flush();
    expect(queue.queued).toBe(1);
    await queue.close();
    expect(sent).toEqual(['1']);
  });
});
