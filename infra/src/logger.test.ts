import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('createLogger', () => {
  it('honours LOG_LEVEL and names the service', () => {
    const logger = createLogger({ LOG_LEVEL: 'warn' }, 'state-builder');
    expect(logger.level).toBe('warn');
    expect(logger.isLevelEnabled('info')).toBe(false);
    expect(logger.bindings()).toMatchObject({ service: 'state-builder' });
  });

  it('writes JSON lines with an ISO time and a textual level', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ LOG_LEVEL: 'info' }, 'api', sink).child({ requestId: 'r-1' });
    logger.debug('not written');
    logger.info({ path: '/x' }, 'hello');
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(lines).toHaveLength(1);
    expect(line).toMatchObject({ level: 'info', service: 'api', requestId: 'r-1', path: '/x', msg: 'hello' });
    expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
