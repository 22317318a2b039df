import { createLogger, type Logger } from '@hub/infra';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/**
 * The processors' log function over the one structured logger (pino: time, level, service; see
 * infra/src/logger.ts). Lines go to stderr, so stdout stays free for a command's own output.
 */
export function jsonLog(service: string, minLevel: LogLevel = 'info'): Log {
  return logTo(createLogger({ LOG_LEVEL: minLevel }, service, 'stderr'));
}

/** A `Log` writing through `logger` (a process's logger, or a child with more fields). */
export function logTo(logger: Logger): Log {
  return (level, message, fields = {}) => logger[level](fields, message);
}
