import type { DeliveryLog } from './delivery-log.ts';
import { post } from './http-post.ts';
import type { DeliveryQueue, QueuedMessage } from './queue.ts';
import { nextAttemptAt } from './schedule.ts';
import type { SecretBox } from './secrets.ts';
import { Signer } from './signature.ts';
import type { Subscription } from './subscriptions.ts';
import { checkTargetUrl, type UrlCheck, type UrlPolicy } from './target-url.ts';

export interface DispatcherOptions {
  queue: DeliveryQueue;
  log: DeliveryLog;
  box: SecretBox;
  urlPolicy: UrlPolicy;
  /** Seconds before each attempt (WEBHOOK_RETRY_SCHEDULE). */
  schedule: readonly number[];
  timeoutMs: number;
  /** Attempts in flight per endpoint. */
  concurrency: number;
  /** An endpoint failing for this long without a success is disabled. */
  disableAfterMs: number;
  /** Called once when an endpoint reaches disableAfterMs. */
  onDisable(sub: Subscription, reason: string): Promise<void>;
  /** Consecutive failures that open an endpoint's circuit, and how long it stays open. */
  breakerThreshold?: number;
  breakerOpenMs?: number;
  pollMs?: number;
  now?: () => number;
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

interface Endpoint {
  sub: Subscription;
  inflight: number;
  consecutiveFailures: number;
  openUntil: number;
  disabling: boolean;
  /** The live secrets' signers, opened once, until the next secret expires (or the sub changes). */
  signers: { list: Signer[]; until: number } | null;
  /** The target URL's check (DNS and address rules), reused for TARGET_CHECK_MS. */
  target: { check: Promise<UrlCheck>; until: number } | null;
  /** The last claim found fewer due messages than it asked for: only a poll or new messages look again. */
  drained: boolean;
  /** Claimed (leased in Redis) and not yet sent, in due order: a free slot sends the next at once. */
  ready: Leased[];
  /** Smoothed milliseconds per attempt, which bounds how much is claimed ahead of the slots. */
  latencyMs: number;
}

interface Leased {
  m: QueuedMessage;
  /** When the claim's lease ends and the message is due again for any worker. */
  leaseUntil: number;
}

const SNIPPET = 256;
/**
 * How long a claimed message may wait in an endpoint's ready list before it is sent; its lease
 * covers this on top of the attempt's timeout. One that waited longer is left to its lease's end
 * (it is due again then, for any worker), so an attempt never runs past its lease.
 */
const HOLD_MS = 2_000;
/**
 * A claim's lease beyond the attempt's timeout: HOLD_MS of waiting, and the 5 s margin a claim
 * sent at once always had. A worker that dies leaves its claims to others this much later.
 */
const LEASE_MARGIN_MS = HOLD_MS + 5_000;
/** Claimed ahead of the slots, at most, in rounds of `concurrency`, for a fast endpoint. */
const AHEAD_ROUNDS = 3;
/** Ahead of the slots, at most what a healthy endpoint sends in this long at its latency. */
const AHEAD_MS = 1_000;
/** How long a target URL's check (its DNS answer against the address rules) is reused. */
const TARGET_CHECK_MS = 30_000;

/**
 * Sends due messages, each endpoint on its own: at most `concurrency` attempts in flight per
 * endpoint, and a circuit breaker that stops claiming an endpoint's messages for a while after
 * consecutive failures (then lets one through). A slow or dead receiver therefore holds only its
 * own queue and its own slots; every other endpoint is claimed and sent as before.
 */
export class Dispatcher {
  private readonly endpoints = new Map<string, Endpoint>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private ticking = false;
  private again = false;
  /** The next claim asks every endpoint, drained ones too (a poll, or messages were queued). */
  private all = true;
  private readonly inflight = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly o: DispatcherOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The subscription as projected; an inactive one is forgotten (its queue is purged by the worker). */
  upsert(sub: Subscription): void {
    if (!sub.active) {
      this.endpoints.delete(sub.id);
      return;
    }
    const held = this.endpoints.get(sub.id);
    if (held) {
      held.sub = sub;
      held.signers = null;
      held.target = null;
    } else
      this.endpoints.set(sub.id, {
        sub,
        inflight: 0,
        consecutiveFailures: 0,
        openUntil: 0,
        disabling: false,
        signers: null,
        target: null,
        drained: false,
        ready: [],
        latencyMs: 1,
      });
  }

  /**
   * Messages an endpoint may hold (in flight and ready): its slots, and up to AHEAD_ROUNDS more
   * rounds claimed ahead, fewer the slower it answers, so a slot coming free sends the next message
   * without waiting for a Redis round trip, and a slow receiver does not sit on leased messages.
   */
  private capacityOf(e: Endpoint): number {
    const c = this.o.concurrency;
    return c + Math.min(AHEAD_ROUNDS * c, Math.floor((c * AHEAD_MS) / Math.max(1, e.latencyMs)));
  }

  /** Sends ready messages while the endpoint has free slots (and its circuit lets it). */
  private pump(e: Endpoint): void {
    // Not for a stopped dispatcher, nor an endpoint disabled or gone (its queue is purged).
    if (!this.running || e.disabling || this.endpoints.get(e.sub.id) !== e) return;
    const now = this.now();
    const closed = e.openUntil === 0;
    if (!closed && (now < e.openUntil || e.inflight > 0)) return;
    const limit = closed ? this.o.concurrency : 1;
    while (e.inflight < limit && e.ready.length > 0) {
      const { m, leaseUntil } = e.ready.shift()!;
      // Waited too long to finish within its lease: it is due again then (same webhook-id).
      if (leaseUntil - now < this.o.timeoutMs + (LEASE_MARGIN_MS - HOLD_MS)) continue;
      this.send(e, m);
    }
  }

  private send(e: Endpoint, m: QueuedMessage): void {
    e.inflight++;
    let released = false;
    // The slot is the HTTP call: it is free again once the receiver answered, while the
    // bookkeeping (log record, queue update) finishes on its own.
    const release = () => {
      if (released) return;
      released = true;
      e.inflight--;
      this.pump(e);
      this.refill(e);
    };
    const p = this.attempt(e, m, release).finally(() => {
      release();
      this.inflight.delete(p);
    });
    this.inflight.add(p);
  }

  /** Signers for the newest secret and any older one still in its overlap. */
  private signersOf(e: Endpoint, now: number): Signer[] {
    if (e.signers && now < e.signers.until) return e.signers.list;
    const live = e.sub.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now);
    const until = Math.min(...live.map((s) => s.expiresAt ?? Number.POSITIVE_INFINITY));
    e.signers = { list: live.map((s) => new Signer(this.o.box.open(s.ciphertext))), until };
    return e.signers.list;
  }

  private targetOf(e: Endpoint, now: number): Promise<UrlCheck> {
    if (e.target && now < e.target.until) return e.target.check;
    const check = checkTargetUrl(e.sub.url, this.o.urlPolicy);
    e.target = { check, until: now + TARGET_CHECK_MS };
    return check;
  }

  active(): Subscription[] {
    return [...this.endpoints.values()].map((e) => e.sub);
  }

  start(): void {
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      this.all = true;
      void this.tick().finally(() => {
        if (this.running) this.timer = setTimeout(loop, this.o.pollMs ?? 50);
      });
    };
    loop();
  }

  /** Claims at once instead of at the next poll (new messages were queued). */
  kick(): void {
    this.all = true;
    if (this.running) void this.tick();
  }

  /**
   * Claims at once for the endpoints whose queues still had due messages, once an endpoint's
   * ready list is down to one round (a slot came free).
   */
  private refill(e: Endpoint): void {
    if (this.running && !e.drained && e.ready.length < this.o.concurrency) void this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inflight]);
  }

  private async tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        await this.claimAndSend();
      } while (this.again && this.running);
    } catch (err) {
      this.o.warn?.('claiming webhook messages failed', { error: (err as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  private async claimAndSend(): Promise<void> {
    const now = this.now();
    const all = this.all;
    this.all = false;
    const wants: { subscriptionId: string; limit: number }[] = [];
    for (const [id, e] of this.endpoints) {
      if (e.disabling) continue;
      // A circuit that closed or half-opened since the last answer sends (or drops stale) ready ones.
      if (e.ready.length > 0) this.pump(e);
      if (e.drained && !all) continue;
      const halfOpen = e.openUntil !== 0;
      if (halfOpen && now < e.openUntil) continue;
      // A half-open circuit lets one message through, and claims nothing ahead.
      const limit = halfOpen
        ? e.inflight === 0 && e.ready.length === 0
          ? 1
          : 0
        : this.capacityOf(e) - e.inflight - e.ready.length;
      // A busy endpoint is refilled once its ready list is down to one round, so a claim takes
      // several messages rather than one per answer; an idle one, or a poll, claims what is free.
      if (limit > 0 && (all || e.inflight === 0 || e.ready.length < this.o.concurrency))
        wants.push({ subscriptionId: id, limit });
    }
    if (wants.length === 0) return;
    const leaseUntil = now + this.o.timeoutMs + LEASE_MARGIN_MS;
    const claimed = await this.o.queue.claim(wants, now, leaseUntil - now);
    const got = new Map<string, number>();
    for (const m of claimed) got.set(m.subscriptionId, (got.get(m.subscriptionId) ?? 0) + 1);
    for (const w of wants) {
      const e = this.endpoints.get(w.subscriptionId);
      if (e) e.drained = (got.get(w.subscriptionId) ?? 0) < w.limit;
    }
    const touched = new Set<Endpoint>();
    for (const m of claimed) {
      const e = this.endpoints.get(m.subscriptionId);
      if (!e) continue;
      e.ready.push({ m, leaseUntil });
      touched.add(e);
    }
    for (const e of touched) this.pump(e);
  }

  private async attempt(e: Endpoint, m: QueuedMessage, release: () => void): Promise<void> {
    const sub = e.sub;
    const started = this.now();
    const attempt = m.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    let snippet: string | null = null;
    const target = await this.targetOf(e, started);
    if (!target.ok) error = `target refused: ${target.reason}`;
    else {
      try {
        const seconds = Math.floor(started / 1000);
        const signature = this.signersOf(e, started)
          .map((s) => s.sign(m.id, seconds, m.body))
          .join(' ');
        const res = await post(
          target.url,
          {
            'content-type': 'application/cloudevents+json; charset=utf-8',
            'user-agent': 'msisdn-hub-webhooks/1',
            'webhook-id': m.id,
            'webhook-timestamp': String(seconds),
            'webhook-signature': signature,
          },
          m.body,
          this.o.timeoutMs,
          SNIPPET,
        );
        status = res.status;
        snippet = res.text || null;
      } catch (err) {
        const e2 = err as Error;
        error = e2.name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs} ms` : e2.message;
      }
    }
    const ended = this.now();
    e.latencyMs += (ended - started - e.latencyMs) / 8;
    const delivered = status !== null && status >= 200 && status < 300;
    if (!delivered && status !== null) error = `HTTP ${status}`;
    if (delivered) {
      e.consecutiveFailures = 0;
      e.openUntil = 0;
    } else {
      e.consecutiveFailures++;
      if (e.openUntil !== 0 || e.consecutiveFailures >= (this.o.breakerThreshold ?? 5))
        e.openUntil = ended + (this.o.breakerOpenMs ?? 30_000);
    }
    release();
    const next = delivered ? null : nextAttemptAt(this.o.schedule, attempt, ended);
    const outcome = delivered ? 'DELIVERED' : next === null ? 'EXHAUSTED' : 'FAILED';
    await this.o.log.record({
      source: 'WORKER',
      type: 'ATTEMPT',
      subscriptionId: sub.id,
      organisation: sub.organisation,
      webhookId: m.id,
      eventType: m.eventType,
      msisdn: m.msisdn,
      sequence: m.sequence,
      attempt,
      outcome,
      httpStatus: status,
      latencyMs: ended - started,
      error,
      response: snippet,
      nextAttemptAt: next,
      url: sub.url,
      body: m.body,
      actor: null,
      occurredAt: started,
    });
    if (delivered) {
      await this.o.queue.succeeded(m);
      return;
    }
    const since = await this.o.queue.failed(m, next ?? -1, ended);
    if (ended - since >= this.o.disableAfterMs && !e.disabling) {
      e.disabling = true;
      const reason = `no successful delivery since ${new Date(since).toISOString()}`;
      await this.o.onDisable(sub, reason).catch((err: Error) => {
        e.disabling = false;
        this.o.warn?.('disabling a failing endpoint failed', { subscription: sub.id, error: err.message });
      });
    }
  }
}
