import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`, 100 on Linux in practice). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * A process's CPU time so far, user + system over all its threads, in microseconds: utime and
 * stime of /proc/<pid>/stat (fields 14 and 15, after the parenthesised command, which may itself
 * hold spaces or parentheses).
 */
export function cpuMicros(pid: number): number {
  return parseCpuMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
}

export function parseCpuMicros(stat: string, ticks: number): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable stat: ${stat}`);
  return ((utime + stime) * 1_000_000) / ticks;
}

/** CPU spent by each named process between `start()` and `stop()`. */
export interface CpuWindow {
  stop(): Record<string, number>;
}

export function cpuWindow(pids: Record<string, number>): CpuWindow {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid)]));
  return {
    stop: () =>
      Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid) - before[name]!])),
  };
}

/** Microseconds of CPU per unit, to one decimal. */
export const perUnit = (micros: number, units: number) =>
  units > 0 ? Math.round((micros / units) * 10) / 10 : Number.NaN;
