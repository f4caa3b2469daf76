/** Shared by the store tests: temp folders holding real SQLite files, and a signal grid table. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A fresh temp folder, removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-store-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Grids used by the tests: signal id s has scale 0.01 * (1 + s % 3) and offset -40 for odd s. */
export function testGrid(signalId: number): { scale: number; offset: number } {
  return { scale: 0.01 * (1 + (signalId % 3)), offset: signalId % 2 ? -40 : 0 };
}

export interface RawRow {
  id: number;
  stream: string;
  priority: number;
  kind: number;
  first_seq: number;
  count: number;
  bytes: Buffer;
}

/** Every row of a store file, read with a separate connection (not through the Store). */
export function readRows(path: string): RawRow[] {
  const db = new Database(path);
  try {
    return db
      .prepare('SELECT r.id, s.name AS stream, r.priority, r.kind, r.first_seq, r.count, r.bytes FROM rows r JOIN streams s ON s.id = r.stream ORDER BY r.id')
      .all() as RawRow[];
  } finally {
    db.close();
  }
}
