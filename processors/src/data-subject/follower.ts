import type { DataSubjectCodec, DataSubjectEvent } from '@hub/schemas';
import { ErasureSet } from '@hub/state/erasure';
import type { Consumer, Kafka } from 'kafkajs';
import type { Log } from '../kafka/logger.ts';

export interface ErasureFollowerOptions {
  kafka: Kafka;
  codec: DataSubjectCodec;
  /** The data-subject topic. */
  topic: string;
  /** Label for logs and the per-process group id. */
  name: string;
  /**
   * Applies a newly seen erasure to the follower's store (Redis, ClickHouse). Called after the
   * erasure is in `erasures`, so the store's own writer already refuses the erased facts; called
   * again for every erasure on each start (catch-up), so it must be idempotent and cheap when
   * there is nothing left to erase. Retried with back-off until it succeeds.
   */
  onErasure?(event: DataSubjectEvent, phase: 'catch-up' | 'live'): Promise<void>;
  log?: Log;
  retryDelayMs?: number;
  /**
   * The consumer's long-poll (kafkajs' default 5 s). A follower stopped as soon as it has caught
   * up (the rebuild's) keeps it short, since a stop waits for the fetch in flight.
   */
  maxWaitTimeInMs?: number;
}

/**
 * Keeps a process's ErasureSet current from the data-subject topic. Like the accounts projector it
 * reads the whole topic from the start with a group of its own and never commits (erasures are
 * few, and the set is rebuilt from the record every time), and `start` resolves only once every
 * partition is read up to its end at start-up: a state builder or history sink started after it
 * never applies or inserts a fact that an erasure already on the topic has erased, which is what
 * makes a Redis rebuild or a ClickHouse replay honour every erasure.
 */
export class ErasureFollower {
  readonly erasures = new ErasureSet();
  private consumer: Consumer | null = null;
  private readonly next = new Map<number, number>();
  private waiters: { partition: number; offset: number; resolve: () => void }[] = [];
  private caughtUp = false;
  private stopped = false;

  constructor(private readonly o: ErasureFollowerOptions) {}

  async start(timeoutMs = 120_000): Promise<void> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    let ends: { partition: number; high: string }[] = [];
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          ends = await admin.fetchTopicOffsets(this.o.topic);
          break;
        } catch (err) {
          if (attempt >= 50) throw err;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      await admin.disconnect();
    }
    const consumer = this.o.kafka.consumer({
      groupId: `${this.o.name}-erasures-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
      allowAutoTopicCreation: false,
      ...(this.o.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: this.o.maxWaitTimeInMs }),
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const m of batch.messages) {
          let event: DataSubjectEvent;
          try {
            event = await this.o.codec.decode(m.value);
          } catch (err) {
            this.o.log?.('error', 'undecodable data-subject event skipped', {
              partition: batch.partition,
              offset: m.offset,
              error: (err as Error).message,
            });
            continue;
          }
          if (event.type === 'SUBSCRIBER_ERASED') {
            this.erasures.add(event);
            if (this.o.onErasure) await this.applyWithRetry(event, heartbeat);
          }
          this.markRead(batch.partition, Number(m.offset) + 1);
        }
        await heartbeat();
      },
    });
    await Promise.race([
      Promise.all(ends.map((e) => this.waitFor(e.partition, Number(e.high)))),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`${this.o.name}: erasures not caught up in ${timeoutMs} ms`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
    this.caughtUp = true;
    this.o.log?.('info', 'erasures caught up', { subjects: this.erasures.size });
  }

  /** Resolves once the follower has read and applied the record before `nextOffset` in `partition`. */
  waitFor(partition: number, nextOffset: number): Promise<void> {
    if (nextOffset <= 0 || (this.next.get(partition) ?? 0) >= nextOffset) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ partition, offset: nextOffset, resolve }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
    this.consumer = null;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private async applyWithRetry(event: DataSubjectEvent, heartbeat: () => Promise<void>): Promise<void> {
    let delay = this.o.retryDelayMs ?? 250;
    for (;;) {
      try {
        await this.o.onErasure?.(event, this.caughtUp ? 'live' : 'catch-up');
        return;
      } catch (err) {
        if (this.stopped) throw err;
        this.o.log?.('warn', 'applying an erasure failed; retrying', {
          eventId: event.eventId,
          retryInMs: delay,
          error: (err as Error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        await heartbeat();
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private markRead(partition: number, next: number): void {
    if ((this.next.get(partition) ?? 0) < next) this.next.set(partition, next);
    const done = this.waiters.filter((w) => w.partition === partition && w.offset <= next);
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }
}
