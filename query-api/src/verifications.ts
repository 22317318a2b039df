import type { Worker } from 'node:worker_threads';
import { type Config, startWorkerThread } from '@hub/infra';
import type { DropReason } from '@hub/ingest';
import type { NewVerification } from './verification-queue.ts';
import type { FromWorker, ToWorker } from './verification-worker.ts';

export type { NewVerification } from './verification-queue.ts';

/** How long records wait in the request thread before they are handed to the worker. */
const POST_EVERY_MS = 5;

export interface VerificationRecorderOptions {
  /** Most records held while Kafka is slow; beyond it, the oldest are dropped and counted. */
  maxQueued?: number;
  onDropped?: (count: number, reason: DropReason | 'no-worker') => void;
}

/**
 * Records every verification on the verifications topic, off the request path: `record` hands the
 * records to a worker thread (verification-worker.ts) that batches, encodes and produces them, so
 * a verify call never waits for Kafka nor spends its time on the Kafka client. A worker that dies
 * is started anew; records it held and had not sent are lost, and records made while no worker
 * runs are counted as dropped (they are usage records, not answers).
 */
export class VerificationRecorder {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  private outbox: NewVerification[] = [];
  private posting: NodeJS.Timeout | null = null;

  private constructor(
    private readonly config: Config,
    private readonly topic: string,
    private readonly options: VerificationRecorderOptions,
  ) {}

  /** Starts the worker and resolves once it is connected to Kafka and the schema registry. */
  static async start(
    config: Config,
    topic: string,
    options: VerificationRecorderOptions = {},
  ): Promise<VerificationRecorder> {
    const recorder = new VerificationRecorder(config, topic, options);
    await recorder.started();
    return recorder;
  }

  record(events: NewVerification[]): void {
    for (const e of events) this.outbox.push(e);
    // One message every few milliseconds, however many requests recorded in them: each message
    // costs a copy and a wake-up of the worker, which batches for Kafka every 50 ms anyway.
    this.posting ??= setTimeout(() => this.post(), POST_EVERY_MS);
  }

  private post(): void {
    this.posting = null;
    const events = this.outbox;
    if (events.length === 0) return;
    this.outbox = [];
    const worker = this.worker;
    if (worker) worker.postMessage({ type: 'record', events } satisfies ToWorker);
    else {
      this.options.onDropped?.(events.length, 'no-worker');
      void this.started().catch(() => undefined);
    }
  }

  /** Resolves when every record handed over so far is on Kafka (or was dropped). */
  flush(): Promise<void> {
    return this.ask('flush');
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await this.ask('close');
    this.worker = null;
    await worker.terminate();
  }

  private started(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      const worker = startWorkerThread(new URL('./verification-worker.ts', import.meta.url), {
        config: this.config,
        topic: this.topic,
        maxQueued: this.options.maxQueued,
      });
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          this.worker = worker;
          resolve();
        } else if (m.type === 'dropped') this.options.onDropped?.(m.count, m.reason);
        else {
          this.waiting.get(m.id)?.();
          this.waiting.delete(m.id);
        }
      });
      const ended = (err: Error) => {
        reject(err);
        if (this.worker === worker) this.worker = null;
        if (this.ready) this.ready = null;
        for (const done of this.waiting.values()) done();
        this.waiting.clear();
      };
      worker.on('error', ended);
      worker.on('exit', (code) => ended(new Error(`verification worker exited with code ${code}`)));
    });
    return this.ready;
  }

  private ask(type: 'flush' | 'close'): Promise<void> {
    if (this.posting) clearTimeout(this.posting);
    this.post();
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ type, id } satisfies ToWorker);
    });
  }
}
