import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '@hub/infra';
import { todayInLagos } from '@hub/schemas';
import type { Context } from 'hono';

/** How a simulator answers delink (unlink) requests; changed live through DELINK_ADMIN_PATH. */
export interface DelinkSettings {
  /** Refuse every delink request (the source says no). */
  refuse: boolean;
  /** Refuse the next N new requests, then accept again: deterministic for tests. */
  refuseNext: number;
  refuseReason: string;
  /** Delay before the UNLINK goes out on the feed: the source confirms asynchronously. */
  confirmDelayMs: number;
  /** Delay between acting on a request and answering it: a caller that dies meanwhile never hears. */
  answerDelayMs: number;
  /** Hold every UNLINK until this is set false again (then all go out): a confirmation "much later". */
  holdConfirmations: boolean;
}

export const DEFAULT_DELINK_SETTINGS: DelinkSettings = {
  refuse: false,
  refuseNext: 0,
  refuseReason: 'linkage is under a legal hold',
  confirmDelayMs: 50,
  answerDelayMs: 0,
  holdConfirmations: false,
};

/** Where the simulator sends its UNLINK events: the hub's identity-feed webhook and the source's key. */
export interface FeedTarget {
  url: string;
  apiKey: string;
}

export const DELINK_ADMIN_PATH = '/__admin/delinks';

interface KeyRecord {
  /** Requests that carried the key. */
  calls: number;
  /** Times the source acted on it (unlinked and confirmed): more than 1 is a repeated dispatch. */
  effects: number;
  status: 202 | 404 | 422;
  body: Record<string, unknown>;
}

/**
 * Feed targets from the config schema: SIM_FEED_URL (the hub's base URL) and SIM_FEED_API_KEY;
 * without a key, the source's own key from the demo credentials `npm start` wrote (`credentialsPath`).
 */
export function feedTargetFromConfig(
  config: Pick<Config, 'SIM_FEED_URL' | 'SIM_FEED_API_KEY'>,
  source: 'NIMC' | 'NIBSS',
  credentialsPath: string,
): FeedTarget | null {
  const url = config.SIM_FEED_URL;
  let apiKey = config.SIM_FEED_API_KEY;
  if (!apiKey && existsSync(credentialsPath)) {
    const demo = JSON.parse(readFileSync(credentialsPath, 'utf8')) as {
      apiKeys?: { organisation: string; key: string }[];
    };
    apiKey = demo.apiKeys?.find((k) => k.organisation === source)?.key;
  }
  if (!url || !apiKey) return null;
  return { url, apiKey };
}

/**
 * The delink side of a simulated source. Each request carries an Idempotency-Key: the first one is
 * acted on (the linkage removed from the source's own data, an UNLINK sent through the feed after
 * `confirmDelayMs`), and a repeat of the key gets the first answer again without acting. Calls and
 * effects are counted per key, so a test can tell a retried call from a repeated dispatch.
 */
export class DelinkDesk {
  settings: DelinkSettings;
  readonly keys = new Map<string, KeyRecord>();
  /** UNLINK events the feed accepted, and the ones it could not deliver after retries. */
  confirmed = 0;
  undelivered = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private held: { msisdn: string; field: 'nin' | 'bvn'; raw: string }[] = [];

  constructor(
    readonly source: 'NIMC' | 'NIBSS',
    public feed: FeedTarget | null,
    initial: Partial<DelinkSettings> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.settings = { ...DEFAULT_DELINK_SETTINGS, ...initial };
  }

  /**
   * Answers one delink request. `find` resolves the raw identifier among the number's linkages
   * (null: none matches); `unlink` removes it from the source's data; the feed event names `field`.
   */
  handle(
    key: string,
    msisdn: string,
    find: () => string | null,
    unlink: (raw: string) => void,
    field: 'nin' | 'bvn',
  ): { status: 202 | 404 | 422; body: Record<string, unknown> } {
    const known = this.keys.get(key);
    if (known) {
      known.calls++;
      return { status: known.status, body: known.body };
    }
    const record: KeyRecord = { calls: 1, effects: 0, status: 202, body: {} };
    this.keys.set(key, record);
    const refuse = this.settings.refuse || this.settings.refuseNext > 0;
    if (this.settings.refuseNext > 0) this.settings.refuseNext--;
    if (refuse) {
      record.status = 422;
      record.body = { status: 'refused', responseCode: '57', message: this.settings.refuseReason };
      return record;
    }
    const raw = find();
    if (raw === null) {
      record.status = 404;
      record.body = {
        status: 'not_found',
        responseCode: '25',
        message: `no such ${field.toUpperCase()} is linked to ${msisdn}`,
      };
      return record;
    }
    unlink(raw);
    record.effects++;
    record.body = { status: 'accepted', responseCode: '00', reference: `${this.source}-${key}` };
    this.confirm(msisdn, field, raw);
    return record;
  }

  private confirm(msisdn: string, field: 'nin' | 'bvn', raw: string, attempt = 1): void {
    const feed = this.feed;
    if (!feed) {
      this.undelivered++;
      return;
    }
    if (attempt === 1 && this.settings.holdConfirmations) {
      this.held.push({ msisdn, field, raw });
      return;
    }
    const delay = attempt === 1 ? this.settings.confirmDelayMs : Math.min(5000, 200 * 2 ** attempt);
    const timer = setTimeout(async () => {
      this.timers.delete(timer);
      try {
        const res = await fetch(`${feed.url.replace(/\/+$/, '')}/api/v1/webhooks/receive`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': feed.apiKey },
          body: JSON.stringify({
            source: this.source,
            events: [{ msisdn, action: 'UNLINK', [field]: raw, date: todayInLagos(this.now()) }],
          }),
          signal: AbortSignal.timeout(5000),
        });
        if (res.status !== 202) throw new Error(`feed answered HTTP ${res.status}`);
        this.confirmed++;
      } catch {
        if (attempt < 8) this.confirm(msisdn, field, raw, attempt + 1);
        else this.undelivered++;
      }
    }, delay);
    this.timers.add(timer);
  }

  /** Changes settings; turning `holdConfirmations` off sends every UNLINK held meanwhile. */
  configure(patch: Partial<DelinkSettings>): void {
    this.settings = { ...this.settings, ...patch };
    if (this.settings.holdConfirmations) return;
    const held = this.held;
    this.held = [];
    for (const h of held) this.confirm(h.msisdn, h.field, h.raw);
  }

  /** Waits `answerDelayMs` (after `handle` acted, before the answer goes out). */
  answerDelay(): Promise<void> {
    const ms = this.settings.answerDelayMs;
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }

  /** GET: settings and per-key counts; POST: merge settings; DELETE: reset counts and settings. */
  async admin(c: Context): Promise<Response> {
    if (c.req.method === 'DELETE') {
      this.keys.clear();
      this.held = [];
      this.confirmed = 0;
      this.undelivered = 0;
      this.settings = { ...DEFAULT_DELINK_SETTINGS };
    } else if (c.req.method === 'POST') {
      let patch: unknown;
      try {
        patch = await c.req.json();
      } catch {
        return c.json({ error: 'body must be JSON' }, 400);
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
        return c.json({ error: 'body must be an object of delink settings' }, 400);
      const p = patch as Record<string, unknown>;
      const types: Record<keyof DelinkSettings, string> = {
        refuse: 'boolean',
        refuseNext: 'number',
        refuseReason: 'string',
        confirmDelayMs: 'number',
        answerDelayMs: 'number',
        holdConfirmations: 'boolean',
      };
      for (const [k, v] of Object.entries(p)) {
        if (!(k in types)) return c.json({ error: `unknown setting: ${k}` }, 400);
        if (typeof v !== types[k as keyof DelinkSettings])
          return c.json({ error: `${k} has the wrong type` }, 400);
      }
      if (p.refuseNext !== undefined && (!Number.isInteger(p.refuseNext) || (p.refuseNext as number) < 0))
        return c.json({ error: 'refuseNext must be a non-negative integer' }, 400);
      if (
        p.confirmDelayMs !== undefined &&
        ((p.confirmDelayMs as number) < 0 || (p.confirmDelayMs as number) > 60_000)
      )
        return c.json({ error: 'confirmDelayMs must be between 0 and 60000' }, 400);
      this.configure(p as Partial<DelinkSettings>);
    }
    return c.json(this.snapshot(), 200);
  }

  snapshot() {
    const keys: Record<string, { calls: number; effects: number; status: number }> = {};
    for (const [k, r] of this.keys) keys[k] = { calls: r.calls, effects: r.effects, status: r.status };
    return {
      settings: this.settings,
      keys,
      held: this.held.length,
      confirmed: this.confirmed,
      undelivered: this.undelivered,
    };
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
