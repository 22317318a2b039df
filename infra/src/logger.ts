import { type DestinationStream, type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger } from 'pino';

/**
 * The one structured logger of every process: JSON lines with time, level (LOG_LEVEL), the
 * service name and, through `child({ requestId })`, the request id. Errors go under `err` so pino
 * serialises their message and stack; nothing here ever reaches a client.
 */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL'>,
  service: string,
  /** Where lines go: stdout by default; `'stderr'` for commands whose stdout is their output. */
  destination?: DestinationStream | 'stderr',
): Logger {
  const options = {
    level: config.LOG_LEVEL,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (destination === 'stderr') return pino(options, pino.destination(2));
  return destination ? pino(options, destination) : pino(options);
}

/** How long a line may wait in a buffered destination before it is written. */
const FLUSH_EVERY_MS = 200;

/**
 * Standard output through a 4 KiB buffer, for a process that writes a line per request (the API's
 * access log): one write for many lines instead of a write per line, which cost a few percent of a
 * verification. A line waits at most 200 ms; the buffer is written out when the process exits
 * (process.exit, an uncaught exception), so only a kill -9 can lose its last 4 KiB.
 */
export function bufferedStdout(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), FLUSH_EVERY_MS).unref();
  process.on('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // Nothing left to write to.
    }
  });
  return destination;
}
