/**
 * Logging shared by the vehicle agent and the backend: the levels (config `log_level`), the log
 * function every part takes, and the stderr logger, one line per message:
 * `<RFC 3339 time> <level> <message>`, filtered by level.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Logger = (level: LogLevel, message: string) => void;

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export function stderrLogger(threshold: LogLevel = 'info', stream: { write(text: string): unknown } = process.stderr): Logger {
  return (level, message) => {
    if (RANK[level] <= RANK[threshold]) stream.write(`${new Date().toISOString()} ${level} ${message}\n`);
  };
}
