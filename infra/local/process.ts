import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function writePid(pidFile: string, pid: number): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/** Alive and not a zombie (a child we started and that exited stays a zombie until reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process's command line, to tell our process from an unrelated one that reused its pid. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  {
    timeoutMs,
    intervalMs = 250,
    abort,
  }: { timeoutMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<void> {
  await waitWhileProgressing(what, check, { quietMs: timeoutMs, ceilingMs: timeoutMs, intervalMs, abort });
}

/** What a process has done so far: the counters that move while it works. */
export interface ProgressSample {
  /** CPU time in clock ticks (user + system), from /proc/<pid>/stat. */
  cpuTicks: number;
  /** Bytes read and written through system calls (rchar + wchar), from /proc/<pid>/io; 0 if unreadable. */
  ioBytes: number;
  /** Total size of the files watched (its logs). */
  logBytes: number;
}

/** Linux's USER_HZ: /proc reports CPU time in hundredths of a second. */
const TICKS_PER_SECOND = 100;
/** CPU share of one core, averaged since the last progress, that counts as working. */
const BUSY_CPU_SHARE = 0.05;
/** Bytes of I/O since the last progress that count as working (loading parts, replaying logs). */
const BUSY_IO_BYTES = 1024 * 1024;

/**
 * Whether a process did work between two samples `elapsedMs` apart: its log grew, it moved at
 * least a MiB through I/O, or it used at least 5% of a core on average. An idle server's
 * background threads stay below that, so one that hangs alive stops counting as progress.
 */
export function madeProgress(before: ProgressSample, after: ProgressSample, elapsedMs: number): boolean {
  if (after.logBytes !== before.logBytes) return true;
  if (after.ioBytes - before.ioBytes >= BUSY_IO_BYTES) return true;
  const busyTicks = (elapsedMs / 1000) * TICKS_PER_SECOND * BUSY_CPU_SHARE;
  return after.cpuTicks - before.cpuTicks >= Math.max(1, busyTicks);
}

/** The progress counters of `pid` and the sizes of `files`; undefined once the process is gone. */
export function sampleProgress(pid: number, files: readonly string[] = []): ProgressSample | undefined {
  let cpuTicks: number;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpuTicks = Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
  let ioBytes = 0;
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    for (const line of io.split('\n')) {
      const [key, value] = line.split(':');
      if (key === 'rchar' || key === 'wchar') ioBytes += Number(value);
    }
  } catch {
    // Not readable for another user's process: CPU time and logs still tell.
  }
  let logBytes = 0;
  for (const file of files) {
    try {
      logBytes += statSync(file).size;
    } catch {
      // Not written yet.
    }
  }
  return { cpuTicks, ioBytes, logBytes };
}

export interface ProgressWait {
  /** Give up after this long without progress (or, without a progress probe, at all). */
  quietMs: number;
  /** Give up after this long whatever the progress. */
  ceilingMs: number;
  intervalMs?: number;
  /** The process's counters now; undefined when there is nothing to watch. */
  progress?: () => ProgressSample | undefined;
  /** A reason to stop waiting at once (e.g. the process exited). */
  abort?: () => string | undefined;
  /** Called about every 10 s of waiting with the seconds waited, for a line on the terminal. */
  onWaiting?: (waitedSeconds: number) => void;
  /** Clock and sleep, replaceable in tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits until `check` passes. While the process shows progress (see `madeProgress`) the wait goes
 * on past `quietMs`, up to `ceilingMs` in all: a server that is loading a large data folder is
 * given the time it needs, and one that has stopped working is given up on after `quietMs`.
 */
export async function waitWhileProgressing(
  what: string,
  check: () => Promise<boolean>,
  options: ProgressWait,
): Promise<void> {
  const now = options.now ?? Date.now;
  const pause = options.sleep ?? ((ms: number) => sleep(ms));
  const interval = options.intervalMs ?? 250;
  const started = now();
  let lastProgressAt = started;
  let lastSample = options.progress?.();
  let lastNotice = started;
  for (;;) {
    if (await check().catch(() => false)) return;
    const reason = options.abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    const t = now();
    const sample = options.progress?.();
    if (
      sample !== undefined &&
      lastSample !== undefined &&
      madeProgress(lastSample, sample, t - lastProgressAt)
    ) {
      lastProgressAt = t;
      lastSample = sample;
    } else if (lastSample === undefined) {
      lastSample = sample;
    }
    if (t - started >= options.ceilingMs) {
      throw new Error(
        `${what}: not ready after ${Math.round(options.ceilingMs / 1000)}s (the limit, even while it works)`,
      );
    }
    if (t - lastProgressAt >= options.quietMs) {
      throw new Error(
        t - started > options.quietMs
          ? `${what}: not ready after ${Math.round((t - started) / 1000)}s, with no progress for the last ${Math.round(options.quietMs / 1000)}s`
          : `${what}: not ready after ${Math.round(options.quietMs / 1000)}s`,
      );
    }
    if (options.onWaiting && t - lastNotice >= 10_000) {
      lastNotice = t;
      options.onWaiting(Math.round((t - started) / 1000));
    }
    await pause(interval);
  }
}

/** Finds an executable on PATH, also looking in the sbin folders a non-root PATH lacks. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface DetachedSpec {
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a process in its own session, output to a log file, that outlives this one. */
export function spawnDetached(spec: DetachedSpec): ChildProcess {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

export interface RunResult {
  code: number;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output. ENOENT becomes code 127. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; inherit?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: options.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stderr += chunk.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve({
        code: error.code === 'ENOENT' ? 127 : 1,
        output: `${output}${error.message}`,
        stdout,
        stderr: `${stderr}${error.message}`,
      }),
    );
    child.once('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), output, stdout, stderr }),
    );
  });
}

export interface TerminateOptions {
  /** SIGKILL after this long without progress while it shuts down. */
  quietMs: number;
  /** SIGKILL after this long in all, progress or not. */
  ceilingMs?: number;
  /** Files whose growth counts as progress (its logs). */
  logFiles?: readonly string[];
  onWaiting?: (waitedSeconds: number) => void;
}

/**
 * SIGTERM, then wait for the exit while the process is still working on it (flushing, finishing
 * or cancelling merges, closing logs); SIGKILL only when it has made no progress for `quietMs`,
 * or after `ceilingMs` in all. A number alone is the old form: SIGKILL after that many ms.
 */
export async function terminate(
  pid: number,
  options: number | TerminateOptions,
): Promise<'stopped' | 'killed'> {
  const o: TerminateOptions =
    typeof options === 'number' ? { quietMs: options, ceilingMs: options } : options;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  try {
    await waitWhileProgressing(`pid ${pid}`, async () => !isAlive(pid), {
      quietMs: o.quietMs,
      ceilingMs: o.ceilingMs ?? o.quietMs,
      intervalMs: 100,
      progress: () => sampleProgress(pid, o.logFiles),
      onWaiting: o.onWaiting,
    });
    return 'stopped';
  } catch {
    // Neither exited nor working on it: escalate.
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  while (isAlive(pid)) await sleep(50);
  return 'killed';
}

export function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return '(no log file)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
