import { describe, expect, it } from 'vitest';
import { luaString, wrkScript } from './wrk.ts';

describe('wrk script', () => {
  it('writes strings as Lua literals byte for byte', () => {
    expect(luaString('{"phoneNumber":"0803"}')).toBe('"{\\034phoneNumber\\034:\\0340803\\034}"');
    expect(luaString('a\\b\né')).toBe('"a\\092b\\010\\195\\169"');
  });

  it('formats each request once with its host, headers and body, and cycles through them', () => {
    const script = wrkScript('127.0.0.1:8080', [
      { method: 'POST', path: '/verify', headers: { authorization: 'Bearer k' }, body: '{}' },
      { method: 'GET', path: '/health' },
    ]);
    expect(script).toContain(
      'wrk.format("POST", "/verify", { ["Host"] = "127.0.0.1:8080", ["authorization"] = "Bearer k" }, "{}")',
    );
    expect(script).toContain('wrk.format("GET", "/health", { ["Host"] = "127.0.0.1:8080" }, nil)');
    expect(script).toContain('i = i % #t + 1');
  });

  it('samples a long list of requests down to what one Lua function can hold', () => {
    const requests = Array.from({ length: 20_000 }, (_, i) => ({ method: 'GET' as const, path: `/${i}` }));
    const formatted = wrkScript('h', requests).match(/wrk\.format\(/g) ?? [];
    expect(formatted.length).toBeLessThanOrEqual(4000);
    expect(formatted.length).toBeGreaterThan(3000);
  });
});
