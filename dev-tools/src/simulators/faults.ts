import type { Config } from '@hub/infra';
import type { Context, MiddlewareHandler } from 'hono';

/** How a simulator misbehaves; tests and demos change it live through the admin endpoint. */
export interface FaultSettings {
  /** Added before every answer. */
  latencyMs: number;
  /** Probability in [0,1] that a request fails with `failStatus`. */
  failureRate: number;
  /** The next N requests fail with `failStatus`, whatever the rate: deterministic for tests. */
  failNext: number;
  /** Every request fails with `failStatus` (the source is down). */
  down: boolean;
  failStatus: number;
}

export const NO_FAULTS: FaultSettings = {
  latencyMs: 0,
  failureRate: 0,
  failNext: 0,
  down: false,
  failStatus: 503,
};

/** Faults from the config schema: SIM_LATENCY_MS, SIM_FAILURE_RATE, SIM_DOWN, SIM_FAIL_STATUS. */
export function faultsFromConfig(
  config: Pick<Config, 'SIM_LATENCY_MS' | 'SIM_FAILURE_RATE' | 'SIM_DOWN' | 'SIM_FAIL_STATUS'>,
): FaultSettings {
  return checkFaults({
    latencyMs: config.SIM_LATENCY_MS,
    failureRate: config.SIM_FAILURE_RATE,
    failNext: 0,
    down: config.SIM_DOWN,
    failStatus: config.SIM_FAIL_STATUS,
  });
}

function checkFaults(f: FaultSettings): FaultSettings {
  if (f.failureRate > 1) throw new Error('failureRate must be between 0 and 1');
  if (!Number.isInteger(f.failStatus) || f.failStatus < 400 || f.failStatus > 599) {
    throw new Error('failStatus must be an HTTP error status (400-599)');
  }
  if (!Number.isInteger(f.failNext) || f.failNext < 0)
    throw new Error('failNext must be a non-negative integer');
  if (f.latencyMs > 120_000) throw new Error('latencyMs must be at most 120000');
  return f;
}

/** Live fault settings plus request counters, so a test can see how many attempts reached the source. */
export class Faults {
  settings: FaultSettings;
  requests = 0;
  failed = 0;

  constructor(initial: FaultSettings = NO_FAULTS) {
    this.settings = { ...initial };
  }

  /** Merges a partial update; throws on a value that makes no sense. */
  update(patch: Partial<FaultSettings>): FaultSettings {
    this.settings = checkFaults({ ...this.settings, ...patch });
    return this.settings;
  }

  reset(): void {
    this.settings = { ...NO_FAULTS };
    this.requests = 0;
    this.failed = 0;
  }

  /** Applies latency and failures to every request outside the admin path. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      if (c.req.path.startsWith(ADMIN_PATH)) return next();
      this.requests++;
      const s = this.settings;
      if (s.latencyMs > 0) await new Promise((r) => setTimeout(r, s.latencyMs));
      let fail = s.down || (s.failureRate > 0 && Math.random() < s.failureRate);
      if (s.failNext > 0) {
        s.failNext--;
        fail = true;
      }
      if (fail) {
        this.failed++;
        return c.json({ error: 'simulated failure' }, s.failStatus as 503);
      }
      return next();
    };
  }

  /** GET reads the settings and counters; POST merges new settings; DELETE resets both. */
  async admin(c: Context): Promise<Response> {
    if (c.req.method === 'DELETE') {
      this.reset();
    } else if (c.req.method === 'POST') {
      let patch: unknown;
      try {
        patch = await c.req.json();
      } catch {
        return c.json({ error: 'body must be JSON' }, 400);
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        return c.json({ error: 'body must be an object of fault settings' }, 400);
      }
      const known = Object.keys(NO_FAULTS);
      const unknown = Object.keys(patch).filter((k) => !known.includes(k));
      if (unknown.length > 0) return c.json({ error: `unknown settings: ${unknown.join(', ')}` }, 400);
      const bad = Object.entries(patch).find(([k, v]) =>
        k === 'down' ? typeof v !== 'boolean' : typeof v !== 'number',
      );
      if (bad) return c.json({ error: `${bad[0]} has the wrong type` }, 400);
      try {
        this.update(patch as Partial<FaultSettings>);
      } catch (err) {
        return c.json({ error: (err as Error).message }, 400);
      }
    }
    return c.json({ settings: this.settings, requests: this.requests, failed: this.failed }, 200);
  }
}

/** Where each simulator serves its fault controls. */
export const ADMIN_PATH = '/__admin/faults';
