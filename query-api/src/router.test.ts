import { TrieRouter } from 'hono/router/trie-router';
import { describe, expect, it } from 'vitest';
import { StaticPathRouter } from './router.ts';

const ROUTES: [string, string, string][] = [
  ['ALL', '*', 'headers'],
  ['ALL', '/api/*', 'security'],
  ['POST', '/api/v1/phone/api/phone-numbers/verify', 'verify'],
  ['POST', '/api/v1/phone/api/phone-numbers/verify/bulk', 'bulk'],
  ['GET', '/api/v1/phone/api/phone-numbers/verify/bulk/:requestId', 'result'],
  ['GET', '/api/v1/recycled-sims/detect/:job_id', 'job'],
  ['GET', '/api/v1/recycled-sims/:id', 'sim'],
  ['GET', '/api/v1/recycled-sims', 'sims'],
];

function both() {
  const mine = new StaticPathRouter<string>();
  const trie = new TrieRouter<string>();
  for (const [method, path, handler] of ROUTES) {
    mine.add(method, path, handler);
    trie.add(method, path, handler);
  }
  return { mine, trie };
}

describe('StaticPathRouter', () => {
  it("answers every request as Hono's trie router does, the first time and when kept", () => {
    const { mine, trie } = both();
    const requests: [string, string][] = [
      ['POST', '/api/v1/phone/api/phone-numbers/verify'],
      ['GET', '/api/v1/phone/api/phone-numbers/verify'],
      ['POST', '/api/v1/phone/api/phone-numbers/verify/bulk'],
      ['GET', '/api/v1/phone/api/phone-numbers/verify/bulk/0d6f'],
      ['GET', '/api/v1/recycled-sims/detect/job-1'],
      ['GET', '/api/v1/recycled-sims/abc'],
      ['GET', '/api/v1/recycled-sims'],
      ['DELETE', '/api/v1/recycled-sims'],
      ['GET', '/nowhere'],
    ];
    for (let round = 0; round < 2; round++)
      for (const [method, path] of requests)
        expect(mine.match(method, path), `${method} ${path}`).toEqual(trie.match(method, path));
  });

  it('keeps matches only for paths a route spells out, and forgets them when a route is added', () => {
    const { mine } = both();
    for (let i = 0; i < 100; i++) mine.match('GET', `/api/v1/recycled-sims/${i}`);
    const before = mine.match('POST', '/api/v1/phone/api/phone-numbers/verify');
    expect(before[0].map(([handler]) => handler)).toEqual(['headers', 'security', 'verify']);
    mine.add('POST', '/api/v1/phone/api/phone-numbers/verify', 'second');
    const after = mine.match('POST', '/api/v1/phone/api/phone-numbers/verify');
    expect(after[0].map(([handler]) => handler)).toEqual(['headers', 'security', 'verify', 'second']);
    // Parameterised paths are never kept: their matches carry the path's values.
    expect(mine.match('GET', '/api/v1/recycled-sims/xyz')[0][0]?.[1]).toEqual({});
    expect(mine.match('GET', '/api/v1/recycled-sims/xyz')[0].at(-1)?.[1]).toEqual({ id: 'xyz' });
  });
});
