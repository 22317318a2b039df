import { securityKeys } from '@hub/security/keys';
import type { Redis } from 'ioredis';

interface OrganisationSnapshot {
  id: string;
  type: string;
  operatorCode: string | null;
  active: boolean;
}

/**
 * Which organisations stand for a mobile operator: the workflow names operators by their code
 * (`MTN`), organisations have ids of their own and an operator code. Read from the accounts
 * projection in Redis and kept for `ttlMs`, since organisations change rarely.
 */
export class OperatorDirectory {
  private cached: { at: number; byCode: Map<string, string[]>; ids: Set<string> } | null = null;
  private readonly keys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlMs = 30_000,
  ) {
    this.keys = securityKeys(prefix);
  }

  /** The organisation ids an operator code or organisation id names (the id itself if it is one). */
  async organisationsOf(codeOrId: string): Promise<string[]> {
    const d = await this.load();
    const found = new Set(d.byCode.get(codeOrId.toUpperCase()) ?? []);
    if (d.ids.has(codeOrId) || found.size === 0) found.add(codeOrId);
    return [...found];
  }

  private async load() {
    if (this.cached && Date.now() - this.cached.at < this.ttlMs) return this.cached;
    const ids = await this.redis.smembers(this.keys.organisations);
    // The accounts projection keeps each record as a hash { v: JSON, o: offset }.
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.organisation(id), 'v');
    const rows = ids.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const byCode = new Map<string, string[]>();
    for (const [, json] of rows) {
      if (typeof json !== 'string') continue;
      const o = JSON.parse(json) as OrganisationSnapshot;
      if (o.type !== 'OPERATOR' || !o.operatorCode || !o.active) continue;
      const code = o.operatorCode.toUpperCase();
      byCode.set(code, [...(byCode.get(code) ?? []), o.id]);
    }
    this.cached = { at: Date.now(), byCode, ids: new Set(ids) };
    return this.cached;
  }
}
