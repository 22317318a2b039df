import { describe, expect, it } from 'vitest';
import { deriveSeed, Prng } from './prng.ts';

describe('xoshiro128** generator', () => {
  it('reproduces the reference outputs for state {1, 2, 3, 4}', () => {
    const prng = Prng.fromState([1, 2, 3, 4]);
    const out = Array.from({ length: 6 }, () => prng.nextUint32());
    expect(out).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('gives the same stream for the same seed and a different one for another seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
  });

  it('rejects seeds that are not 32-bit unsigned integers', () => {
    expect(() => new Prng(-1)).toThrow(/seed must be an integer from 0 to 4294967295/);
    expect(() => new Prng(1.5)).toThrow(/seed must be an integer/);
    expect(() => new Prng(2 ** 32)).toThrow(/seed must be an integer/);
  });

  it('keeps int() inside its inclusive bounds and covers both ends', () => {
    const prng = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = prng.int(3, 6);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(6);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
    expect(() => prng.int(5, 4)).toThrow(/lo <= hi/);
  });

  it('draws chance(p) at roughly rate p', () => {
    const prng = new Prng(11);
    let hits = 0;
    for (let i = 0; i < 20_000; i++) if (prng.chance(0.3)) hits++;
    expect(hits / 20_000).toBeGreaterThan(0.28);
    expect(hits / 20_000).toBeLessThan(0.32);
  });

  it('makes version-4-shaped UUIDs and digit strings without a leading zero', () => {
    const prng = new Prng(5);
    for (let i = 0; i < 200; i++) {
      expect(prng.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(prng.digits(11)).toMatch(/^[1-9]\d{10}$/);
    }
  });

  it('derives distinct per-stream seeds', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => deriveSeed(42, i)));
    expect(seeds.size).toBe(1000);
  });
});
