import type { Redis } from 'ioredis';
import type { AccountEvent, ApiKeyRecord, OrganisationRecord, UserRecord } from './accounts.ts';
import { TtlCache } from './cache.ts';
import type { SecurityKeys } from './keys.ts';

export const CACHE_TTL_MS = 5_000;

/**
 * Reads the Redis projection of the accounts topic, through an in-process cache. Each record is a
 * Redis hash: `v` the JSON snapshot, `o` the topic offset it came from (see projector.ts).
 */
export class AccountStore {
  private readonly cache: TtlCache<unknown>;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SecurityKeys,
    ttlMs = CACHE_TTL_MS,
  ) {
    this.cache = new TtlCache(ttlMs);
  }

  get cacheStats(): { hits: number; misses: number; size: number } {
    return { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size };
  }

  organisation(id: string): Promise<OrganisationRecord | null> {
    return this.read(this.keys.organisation(id));
  }

  user(id: string): Promise<UserRecord | null> {
    return this.read(this.keys.user(id));
  }

  async userByEmail(email: string): Promise<UserRecord | null> {
    const id = await this.redis.get(this.keys.userByEmail(email.toLowerCase()));
    return id ? this.user(id) : null;
  }

  apiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    return this.read(this.keys.apiKey(hash));
  }

  async apiKeyById(id: string): Promise<ApiKeyRecord | null> {
    const hash = await this.redis.get(this.keys.apiKeyId(id));
    return hash ? this.apiKeyByHash(hash) : null;
  }

  async organisationKeys(organisationId: string): Promise<ApiKeyRecord[]> {
    const hashes = await this.redis.hvals(this.keys.organisationKeys(organisationId));
    const records = await Promise.all(hashes.map((h) => this.apiKeyByHash(h)));
    return records.filter((r): r is ApiKeyRecord => r !== null).sort((a, b) => a.createdAt - b.createdAt);
  }

  async organisations(): Promise<OrganisationRecord[]> {
    const ids = await this.redis.smembers(this.keys.organisations);
    const records = await Promise.all(ids.map((id) => this.organisation(id)));
    return records
      .filter((r): r is OrganisationRecord => r !== null)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Drops what an applied change makes stale (called by the projector on every instance). */
  invalidate(event: AccountEvent): void {
    if (event.organisation) this.cache.delete(this.keys.organisation(event.organisation.id));
    if (event.user) this.cache.delete(this.keys.user(event.user.id));
    if (event.apiKey) this.cache.delete(this.keys.apiKey(event.apiKey.hash));
  }

  invalidateUser(id: string): void {
    this.cache.delete(this.keys.user(id));
  }

  private async read<T>(key: string): Promise<T | null> {
    const hit = this.cache.get(key);
    if (hit) return hit.value as T | null;
    const json = await this.redis.hget(key, 'v');
    const value = json ? (JSON.parse(json) as T) : null;
    this.cache.set(key, value);
    return value;
  }
}
