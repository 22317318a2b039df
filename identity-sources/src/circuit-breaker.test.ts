import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitOpenError, type CircuitState } from './circuit-breaker.ts';

function breaker() {
  let now = 1_000;
  const changes: string[] = [];
  const b = new CircuitBreaker('NIMC', {
    failureThreshold: 3,
    openMs: 10_000,
    now: () => now,
    onStateChange: (from: CircuitState, to: CircuitState) => changes.push(`${from}->${to}`),
  });
  return { b, changes, advance: (ms: number) => (now += ms) };
}
const fail = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('answer');

describe('circuit breaker', () => {
  it('stays closed below the threshold and a success resets the count', async () => {
    const { b } = breaker();
    await expect(b.run(fail)).rejects.toThrow('down');
    await expect(b.run(fail)).rejects.toThrow('down');
    await expect(b.run(ok)).resolves.toBe('answer');
    await expect(b.run(fail)).rejects.toThrow('down');
    await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.state).toBe('closed');
  });

  it('opens after the threshold of consecutive failures and then fails fast without calling', async () => {
    const { b, changes } = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.state).toBe('open');
    let called = false;
    await expect(
      b.run(async () => {
        called = true;
        return 1;
      }),
    ).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
    expect(changes).toEqual(['closed->open']);
  });

  it('lets one probe through when half-open; its success closes the circuit', async () => {
    const { b, changes, advance } = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow();
    advance(10_000);
    expect(b.state).toBe('half-open');
    let release: (v: string) => void = () => {};
    const probe = b.run(() => new Promise<string>((r) => (release = r)));
    // A second caller while the probe is in flight is refused, not sent to the sick source.
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    release('recovered');
    await expect(probe).resolves.toBe('recovered');
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('re-opens for a full wait when the half-open probe fails', async () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) await expect(b.run(fail)).rejects.toThrow();
    advance(10_000);
    await expect(b.run(fail)).rejects.toThrow('down');
    expect(b.state).toBe('open');
    advance(9_999);
    await expect(b.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    advance(1);
    await expect(b.run(ok)).resolves.toBe('answer');
  });
});
