import { describe, expect, it } from 'vitest';
import { madeProgress, type ProgressSample, waitWhileProgressing } from './process.ts';

const idle: ProgressSample = { cpuTicks: 1000, ioBytes: 5_000_000, logBytes: 200 };

/** A clock that only moves when the wait sleeps, so a test of minutes runs in microseconds. */
function fakeClock() {
  let t = 0;
  const sleep = async (ms: number) => {
    t += ms;
  };
  return { now: () => t, sleep, at: () => t };
}

describe('madeProgress', () => {
  it('counts a grown log, a MiB of I/O or 5% of a core as work', () => {
    expect(madeProgress(idle, { ...idle, logBytes: 201 }, 60_000)).toBe(true);
    expect(madeProgress(idle, { ...idle, ioBytes: idle.ioBytes + 1024 * 1024 }, 60_000)).toBe(true);
    // 5% of a core over 10 s is 50 ticks of 1/100 s.
    expect(madeProgress(idle, { ...idle, cpuTicks: 1050 }, 10_000)).toBe(true);
  });

  it('does not count the trickle of an idle server', () => {
    expect(madeProgress(idle, idle, 10_000)).toBe(false);
    expect(madeProgress(idle, { ...idle, cpuTicks: 1049, ioBytes: idle.ioBytes + 4096 }, 10_000)).toBe(false);
  });
});

describe('waitWhileProgressing', () => {
  it('waits past the quiet timeout for as long as the process keeps working', async () => {
    const clock = fakeClock();
    let log = 0;
    // Ready after 5 minutes of loading, with the log growing every 20 s: well past a 60 s timeout.
    await waitWhileProgressing('clickhouse', async () => clock.at() >= 300_000, {
      quietMs: 60_000,
      ceilingMs: 900_000,
      intervalMs: 1000,
      progress: () => {
        if (clock.at() % 20_000 === 0) log += 100;
        return { ...idle, logBytes: log };
      },
      now: clock.now,
      sleep: clock.sleep,
    });
    expect(clock.at()).toBe(300_000);
  });

  it('gives up once the process has made no progress for the quiet timeout', async () => {
    const clock = fakeClock();
    let log = 0;
    // Works for 100 s, then hangs alive.
    const attempt = waitWhileProgressing('clickhouse', async () => false, {
      quietMs: 60_000,
      ceilingMs: 900_000,
      intervalMs: 1000,
      progress: () => {
        if (clock.at() <= 100_000) log += 1;
        return { ...idle, logBytes: log };
      },
      now: clock.now,
      sleep: clock.sleep,
    });
    await expect(attempt).rejects.toThrow(
      'clickhouse: not ready after 160s, with no progress for the last 60s',
    );
  });

  it('gives up at the ceiling even while the process works', async () => {
    const clock = fakeClock();
    let log = 0;
    const attempt = waitWhileProgressing('kafka', async () => false, {
      quietMs: 60_000,
      ceilingMs: 600_000,
      intervalMs: 1000,
      progress: () => ({ ...idle, logBytes: ++log }),
      now: clock.now,
      sleep: clock.sleep,
    });
    await expect(attempt).rejects.toThrow('kafka: not ready after 600s (the limit, even while it works)');
    expect(clock.at()).toBe(600_000);
  });

  it('without a progress probe, times out after the quiet timeout as before', async () => {
    const clock = fakeClock();
    const attempt = waitWhileProgressing('redis', async () => false, {
      quietMs: 15_000,
      ceilingMs: 15_000,
      intervalMs: 250,
      now: clock.now,
      sleep: clock.sleep,
    });
    await expect(attempt).rejects.toThrow('redis: not ready after 15s');
  });

  it('stops at once when the abort check names a reason', async () => {
    const clock = fakeClock();
    const attempt = waitWhileProgressing('clickhouse', async () => false, {
      quietMs: 60_000,
      ceilingMs: 900_000,
      abort: () => (clock.at() >= 2000 ? 'the process exited' : undefined),
      now: clock.now,
      sleep: clock.sleep,
    });
    await expect(attempt).rejects.toThrow('clickhouse: the process exited');
    expect(clock.at()).toBe(2000);
  });
});
