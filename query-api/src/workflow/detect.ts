import { randomUUID } from 'node:crypto';
import type { WorkflowWriter } from '@hub/ingest';
import type { RecycledSimEvent } from '@hub/schemas';
import {
  type StateView,
  scanStaleNumbers,
  simIdOf,
  simsExist,
  staleLinkagesOf,
  type WorkflowKeys,
} from '@hub/state';
import type { Redis } from 'ioredis';

export type JobStatus = 'running' | 'completed' | 'failed';

export interface DetectionJob {
  id: string;
  status: JobStatus;
  startedBy: string;
  startedAt: number;
  finishedAt: number | null;
  /** Stored numbers read. */
  scanned: number;
  /** Numbers with a stale linkage. */
  stale: number;
  /** Of those, newly flagged (DETECTED published) by this scan. */
  flagged: number;
  /** Of those, already in the registry: not flagged again. */
  alreadyFlagged: number;
  unreadable: number;
  error: string | null;
}

const JOB_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The backfill detection scan (POST /recycled-sims/detect) as a background job of the API process:
 * every stored number is read once (scanStaleNumbers), a number with a stale linkage that is not in
 * the registry yet gets a DETECTED event on the recycled-SIMs topic. Idempotent: a number already
 * in the registry is counted, not flagged again, and the event id is derived from the number and
 * its recycle date, so a scan racing another flags a number once. Progress is kept in Redis so
 * any API instance answers GET on the job.
 */
export class DetectionJobs {
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: WorkflowKeys,
    private readonly redisKeyPrefix: string,
    private readonly writer: WorkflowWriter,
    private readonly now: () => number = Date.now,
  ) {}

  async start(actor: string): Promise<DetectionJob> {
    const job: DetectionJob = {
      id: randomUUID(),
      status: 'running',
      startedBy: actor,
      startedAt: this.now(),
      finishedAt: null,
      scanned: 0,
      stale: 0,
      flagged: 0,
      alreadyFlagged: 0,
      unreadable: 0,
      error: null,
    };
    await this.save(job);
    const run = this.run(job).finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
    return job;
  }

  async get(id: string): Promise<DetectionJob | null> {
    const raw = await this.redis.get(this.keys.job(id));
    return raw === null ? null : (JSON.parse(raw) as DetectionJob);
  }

  /** Resolves when the scans this instance started have ended (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }

  private save(job: DetectionJob): Promise<unknown> {
    return this.redis.set(this.keys.job(job.id), JSON.stringify(job), 'EX', JOB_TTL_SECONDS);
  }

  private async run(job: DetectionJob): Promise<void> {
    const seen = new Set<string>();
    let lastSave = 0;
    try {
      const end = await scanStaleNumbers(
        this.redis,
        this.redisKeyPrefix,
        async (views) => {
          const fresh = views.filter((v) => !seen.has(v.msisdn));
          for (const v of fresh) seen.add(v.msisdn);
          job.stale += fresh.length;
          const exists = await simsExist(
            this.redis,
            this.keys,
            fresh.map((v) => simIdOf(v.msisdn)),
          );
          const events = fresh.filter((_, i) => !exists[i]).map((v) => this.detected(v));
          job.alreadyFlagged += fresh.length - events.length;
          if (events.length > 0) await this.writer.sims(events);
          job.flagged += events.length;
        },
        async (p) => {
          job.scanned = p.scanned;
          job.unreadable = p.unreadable;
          if (this.now() - lastSave > 250) {
            lastSave = this.now();
            await this.save(job);
          }
        },
      );
      job.scanned = end.scanned;
      job.unreadable = end.unreadable;
      job.status = 'completed';
    } catch (err) {
      job.status = 'failed';
      job.error = (err as Error).message;
    }
    job.finishedAt = this.now();
    await this.save(job);
  }

  private detected(v: StateView): RecycledSimEvent {
    const now = this.now();
    return {
      eventId: `detect:${v.msisdn}:${v.recycleDate}`,
      source: 'DETECTOR',
      simId: simIdOf(v.msisdn),
      msisdn: v.msisdn,
      action: 'DETECTED',
      recycleDate: v.recycleDate,
      operator: v.operator,
      cleanupStatus: 'pending',
      linkages: staleLinkagesOf(v),
      actor: 'system:detection-scan',
      reason: 'active linkage older than the last churn or reassignment',
      occurredAt: now,
      receivedAt: now,
    };
  }
}
