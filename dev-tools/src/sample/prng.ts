/**
 * Seeded pseudo-random numbers for the synthetic sample.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * 2018; reference C at https://prng.di.unimi.it/xoshiro128starstar.c): 128-bit state, period 2^128 − 1,
 * 32-bit outputs, fast on 32-bit integer arithmetic (Math.imul). Its state is filled from a 32-bit
 * seed with SplitMix32 (the 32-bit variant of Steele, Lea & Flood's SplitMix), as the authors
 * recommend, so that nearby seeds give unrelated streams. Not cryptographic: it only has to be
 * reproducible and statistically decent.
 */

const MAX_SEED = 0xffff_ffff;

/** Murmur3's 32-bit finaliser: mixes every input bit into every output bit. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85eb_ca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2_ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** One seed per stream: each number's life gets its own stream so it does not depend on its neighbours. */
export function deriveSeed(seed: number, stream: number): number {
  return fmix32(fmix32(seed) ^ Math.imul(stream + 1, 0x9e37_79b9));
}

export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${String(seed)}`);
  }
  return seed;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let z = checkSeed(seed);
    const next = (): number => {
      // SplitMix32 step.
      z = (z + 0x9e37_79b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0_aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a_2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is the one fixed point of xoshiro; SplitMix32 cannot produce it for four
    // consecutive outputs, but guard anyway so a future change cannot silently break the stream.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with an explicit 128-bit state, for checking against the reference test vectors. */
  static fromState(state: readonly [number, number, number, number]): Prng {
    if (state.every((w) => w === 0)) throw new RangeError('xoshiro128** state must not be all zero');
    const prng = new Prng(0);
    [prng.s0, prng.s1, prng.s2, prng.s3] = state.map((w) => w >>> 0) as [number, number, number, number];
    return prng;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** Uniform integer in [lo, hi] (inclusive); lo must not exceed hi. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      throw new RangeError(`int(${lo}, ${hi}) needs integers with lo <= hi`);
    }
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** Picks an item with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    if (!(total > 0)) throw new RangeError('weighted pick needs a positive total weight');
    let r = this.float() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (!last) throw new RangeError('weighted pick from an empty list');
    return last[0];
  }

  /** A string of `length` decimal digits; the first digit is never 0 when `leadingNonZero`. */
  digits(length: number, leadingNonZero = true): string {
    let out = '';
    for (let i = 0; i < length; i++) {
      out += String(i === 0 && leadingNonZero ? this.int(1, 9) : this.int(0, 9));
    }
    return out;
  }

  /** A version-4-shaped UUID drawn from the stream (so event ids are reproducible from the seed). */
  uuid(): string {
    const words = [this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32()];
    const hex = words.map((w) => w.toString(16).padStart(8, '0')).join('');
    const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
