import { describe, expect, it } from 'vitest';
import { type CpuProfile, packageOf, summarise, timeline } from './profile-summary.ts';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 });

const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('dispatch', 'file:///r/node_modules/hono/dist/hono-base.js') },
    { id: 4, callFrame: frame('verify', 'file:///r/query-api/src/routes/tirms-verify.ts') },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  startTime: 0,
  endTime: 4_000,
  // Each sample's time is the gap to the next one: 3 → 1000, 4 → 2000, 2 → 1000, 5 → mean (1000).
  samples: [3, 4, 2, 5],
  timeDeltas: [0, 1_000, 2_000, 1_000],
};

describe('CPU profile summary', () => {
  it('names packages by npm package, workspace, Node module or V8 itself', () => {
    expect(packageOf(frame('x', 'file:///r/node_modules/@hono/node-server/dist/index.mjs'))).toBe(
      '@hono/node-server',
    );
    expect(packageOf(frame('x', 'file:///r/node_modules/ioredis/built/Redis.js'))).toBe('ioredis');
    expect(packageOf(frame('x', 'file:///r/state/src/read.ts'))).toBe('@hub/state');
    expect(packageOf(frame('x', 'node:internal/streams/readable'))).toBe('node:streams');
    expect(packageOf(frame('x', 'node:http'))).toBe('node:http');
    expect(packageOf(frame('(garbage collector)'))).toBe('(garbage collector)');
    expect(packageOf(frame('stringify'))).toBe('(native: V8 builtins)');
  });

  it('adds self time per function and package, idle left out', () => {
    const s = summarise(profile);
    expect(s.idleMicros).toBe(1_000);
    expect(s.busyMicros).toBe(4_000);
    expect(s.byPackage.map((p) => [p.name, p.micros])).toEqual([
      ['@hub/query-api', 2_000],
      ['hono', 1_000],
      ['(garbage collector)', 1_000],
    ]);
    expect(s.byFunction[0]).toEqual({ name: 'verify query-api/src/routes/tirms-verify.ts:1', micros: 2_000 });
  });

  it('keeps only the samples inside a window', () => {
    const s = summarise(profile, { fromMs: 0.5, toMs: 1.5 });
    expect(s.byFunction.map((f) => f.name)).toEqual(['verify query-api/src/routes/tirms-verify.ts:1']);
  });

  it('gives busy milliseconds per second', () => {
    expect(timeline(profile)).toEqual([3]);
  });
});
