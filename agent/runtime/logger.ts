/** The agent's log: one line per message on stderr, `<RFC 3339 time> <level> <message>`, filtered by level. */
import type { LogLevel } from '../config/config.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export type Logger = (level: LogLevel, message: string) => void;

export function stderrLogger(threshold: LogLevel = 'info', stream: { write(text: string): unknown } = process.stderr): Logger {
  return (level, message) => {
    if (RANK[level] <= RANK[threshold]) stream.write(`${new Date().toISOString()} ${level} ${message}\n`);
  };
}
