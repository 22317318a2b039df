import type { Result, Router } from 'hono/router';
import { TrieRouter } from 'hono/router/trie-router';

/**
 * Hono's trie router with each static route path's match kept once found. Hono's default
 * (SmartRouter) would pick RegExpRouter, whose one regular expression per method answers in a
 * single test, but RegExpRouter refuses a parameter beside a literal at the same place in two
 * routes of one method, and the Reconix paths have one (`GET /api/v1/recycled-sims/detect/:job_id`
 * beside `GET /api/v1/recycled-sims/:id`; no `{…}` pattern on the parameter or route order changes
 * that), so every request would walk the trie. Here a request to a path some route spells out in
 * full (the verify routes, most of the API) is answered from a map after its first match.
 *
 * The cache holds only paths registered as routes (times the methods Node's parser accepts), so
 * requests to arbitrary paths cannot grow it; a match depends on the method and path alone, so a
 * kept one is the one the trie would give. Adding a route clears it.
 */
export class StaticPathRouter<T> implements Router<T> {
  readonly name = 'TrieRouter with static-path matches kept';
  readonly #trie = new TrieRouter<T>();
  readonly #staticPaths = new Set<string>();
  readonly #matches = new Map<string, Map<string, Result<T>>>();

  add(method: string, path: string, handler: T): void {
    this.#trie.add(method, path, handler);
    if (!path.includes(':') && !path.includes('*')) this.#staticPaths.add(path);
    this.#matches.clear();
  }

  match(method: string, path: string): Result<T> {
    if (!this.#staticPaths.has(path)) return this.#trie.match(method, path);
    let byMethod = this.#matches.get(path);
    if (!byMethod) {
      byMethod = new Map();
      this.#matches.set(path, byMethod);
    }
    let result = byMethod.get(method);
    if (!result) {
      result = this.#trie.match(method, path);
      byMethod.set(method, result);
    }
    return result;
  }
}
