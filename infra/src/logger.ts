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
