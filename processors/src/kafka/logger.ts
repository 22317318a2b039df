export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Structured JSON lines on stderr, so stdout stays free for a command's own output. */
export function jsonLog(service: string, minLevel: LogLevel = 'info'): Log {
  return (level, message, fields = {}) => {
    if (RANK[level] < RANK[minLevel]) return;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, service, message, ...fields })}\n`,
    );
  };
}
