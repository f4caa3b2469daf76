/**
 * The audit trail of remote commands and rules updates: one JSON object per line, appended
 * synchronously (commands are rare; a line is on disk before the command's frames reach the bus).
 * Size-bounded: when a line would take the file past `maxBytes`, it is renamed to `.1` (`.1` to `.2`,
 * ... the oldest beyond `keep` is deleted) and a new file started. A write that fails (disk full,
 * read-only) is counted and reported once; it never stops a command from being answered.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditLogConfig } from '../config/sections/commands.js';

export interface AuditStats {
  lines: number;
  rotations: number;
  errors: number;
}

export class AuditLog {
  private size: number;
  private readonly counters: AuditStats = { lines: 0, rotations: 0, errors: 0 };
  private lastError = '';

  constructor(
    private readonly config: AuditLogConfig,
    private readonly onError: (message: string) => void = (m) => console.error(m),
  ) {
    try {
      mkdirSync(dirname(config.path), { recursive: true });
      this.size = statSync(config.path).size;
    } catch {
      this.size = 0;
    }
  }

  get path(): string {
    return this.config.path;
  }

  /** Appends `{ time, ...record }` as one line. */
  write(record: Record<string, unknown>): void {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.size > 0 && this.size + bytes > this.config.maxBytes) this.rotate();
      appendFileSync(this.config.path, line);
      this.size += bytes;
      this.counters.lines++;
    } catch (error) {
      this.counters.errors++;
      const message = (error as Error).message;
      if (message !== this.lastError) this.onError(`roadlink audit log ${this.config.path}: ${message}`);
      this.lastError = message;
    }
  }

  stats(): AuditStats {
    return { ...this.counters };
  }

  private rotate(): void {
    const { path, keep } = this.config;
    if (keep === 0) rmSync(path, { force: true });
    else {
      rmSync(`${path}.${keep}`, { force: true });
      for (let n = keep - 1; n >= 1; n--) {
        try {
          renameSync(`${path}.${n}`, `${path}.${n + 1}`);
        } catch {
          // that generation does not exist (yet)
        }
      }
      renameSync(path, `${path}.1`);
    }
    this.size = 0;
    this.counters.rotations++;
  }
}
