import { describe, expect, it } from 'vitest';
import { cpuMicros, parseCpuMicros } from './cpu.ts';

describe('process CPU time', () => {
  it('adds utime and stime, in clock ticks, after a command name holding spaces and parentheses', () => {
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 11 0 1 2 3';
    expect(parseCpuMicros(stat, 100)).toBe(3_250_000);
  });

  it('reads this process and grows as it works', () => {
    const before = cpuMicros(process.pid);
    let x = 0;
    const until = Date.now() + 50;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    expect(cpuMicros(process.pid)).toBeGreaterThan(before);
    expect(x).toBeGreaterThan(0);
  });
});
