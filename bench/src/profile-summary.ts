import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * Self time of a V8 CPU profile (`node --cpu-prof`, e.g. through BENCH_CHILD_NODE_FLAGS) by
 * function and by package, over the whole profile or a window of it:
 *
 *   npx tsx bench/src/profile-summary.ts CPU.….cpuprofile [--from 12000 --to 20000] [--top 30]
 *   npx tsx bench/src/profile-summary.ts CPU.….cpuprofile --timeline   # busy ms per second, to pick a window
 *
 * The total-time list (callees included) shows what a middleware or step costs in all.
 * Times are from the profile's start, in ms. Idle is left out of the percentages (they are shares
 * of the CPU the process used), the garbage collector and V8's own work ("(program)") are not.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  parent?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  micros: number;
}

export interface ProfileSummary {
  /** Non-idle sampled time in the window, µs. */
  busyMicros: number;
  idleMicros: number;
  byFunction: SelfTime[];
  byPackage: SelfTime[];
  /** Time of the samples with the function anywhere on their stack (each counted once per sample). */
  inclusive: SelfTime[];
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** The package a frame's code belongs to: an npm package, a workspace, a Node module, or V8 itself. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (SPECIAL.has(functionName) && url === '') return functionName;
  if (url === '') return '(native: V8 builtins)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? (parts[1] ?? 'internal') : parts[0]}`;
  }
  const workspace = /\/([\w.-]+)\/src\//.exec(url);
  if (workspace) return `@hub/${workspace[1]}`;
  return url.replace(/^file:\/\//, '');
}

function functionOf(frame: CallFrame): string {
  if (frame.url === '') return frame.functionName || '(anonymous)';
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
  const short = file.replace(/^.*\/(\w[\w.-]*\/src\/)/, '$1');
  return `${frame.functionName || '(anonymous)'} ${short}:${frame.lineNumber + 1}`;
}

/**
 * Each sample's time is the gap to the next sample (V8 stamps a sample when it is taken); the
 * last sample gets the mean gap.
 */
export function summarise(
  profile: CpuProfile,
  window: { fromMs?: number; toMs?: number } = {},
): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  const fn = new Map<string, number>();
  const total = new Map<string, number>();
  const pkg = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let at = profile.startTime;
  const mean = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const from = profile.startTime + (window.fromMs ?? 0) * 1000;
  const to = window.toMs === undefined ? Number.POSITIVE_INFINITY : profile.startTime + window.toMs * 1000;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    const micros = profile.timeDeltas[i + 1] ?? mean;
    const frame = nodes.get(profile.samples[i]!)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    const f = functionOf(frame);
    fn.set(f, (fn.get(f) ?? 0) + micros);
    const p = packageOf(frame);
    pkg.set(p, (pkg.get(p) ?? 0) + micros);
    const onStack = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parents.get(id)) {
      const f = nodes.get(id)?.callFrame;
      if (f && f.functionName !== '(root)') onStack.add(functionOf(f));
    }
    for (const name of onStack) total.set(name, (total.get(name) ?? 0) + micros);
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros);
  return {
    busyMicros: busy,
    idleMicros: idle,
    byFunction: sorted(fn),
    byPackage: sorted(pkg),
    inclusive: sorted(total),
  };
}

/** Busy (non-idle) ms in each second of the profile. */
export function timeline(profile: CpuProfile): number[] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const seconds: number[] = [];
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (nodes.get(profile.samples[i]!)?.callFrame.functionName === '(idle)') continue;
    const s = Math.floor(at / 1e6);
    seconds[s] = (seconds[s] ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000;
  }
  return Array.from(seconds, (v) => Math.round(v ?? 0));
}

function table(rows: SelfTime[], busy: number, top: number): string {
  return rows
    .slice(0, top)
    .map(
      (r) =>
        `${((r.micros / busy) * 100).toFixed(1).padStart(5)}%  ${(r.micros / 1000).toFixed(0).padStart(7)} ms  ${r.name}`,
    )
    .join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      top: { type: 'string' },
      timeline: { type: 'boolean' },
    },
  });
  const file = positionals[0];
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [--from ms] [--to ms] [--top n] [--timeline]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  if (values.timeline) {
    timeline(profile).forEach((ms, s) => {
      console.log(
        `${String(s).padStart(4)} s  ${String(ms).padStart(4)} ms busy  ${'#'.repeat(Math.round(ms / 20))}`,
      );
    });
  } else {
    const s = summarise(profile, {
      fromMs: values.from === undefined ? undefined : Number(values.from),
      toMs: values.to === undefined ? undefined : Number(values.to),
    });
    const top = Number(values.top ?? 25);
    console.log(`busy ${(s.busyMicros / 1000).toFixed(0)} ms, idle ${(s.idleMicros / 1000).toFixed(0)} ms\n`);
    console.log(`by package (self time):\n${table(s.byPackage, s.busyMicros, top)}\n`);
    console.log(`by function (self time):\n${table(s.byFunction, s.busyMicros, top)}\n`);
    console.log(`by function (total time, callees included):\n${table(s.inclusive, s.busyMicros, top)}`);
  }
}
