/**
 * The store's SQLite schema and connection settings (see store.ts for the design).
 */
import type Database from 'better-sqlite3';

/** Bump with a migration when the schema changes; a newer file is refused, never rewritten. */
export const SCHEMA_VERSION = 1;

/** `rows.kind` */
export const RowKind = { SAMPLES: 0, RECORD: 1 } as const;

/**
 * Bytes charged to the quota per row on top of its blob: row header, index entry and page slack,
 * measured roughly on 4 KiB pages. The quota is about stored data; the file stays close to it
 * because freed pages are reused.
 */
export const ROW_OVERHEAD_BYTES = 48;

export type Synchronous = 'NORMAL' | 'FULL';

export interface ConnectionSettings {
  synchronous: Synchronous;
  /** WAL pages after which a commit checkpoints into the main file. */
  walAutocheckpointPages: number;
}

/** Pragmas applied on every open. The first statement is the first read of the file. */
export function applySettings(db: Database.Database, settings: ConnectionSettings): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (String(mode).toLowerCase() !== 'wal') throw new Error(`cannot switch to WAL mode (got ${String(mode)})`);
  db.pragma(`synchronous = ${settings.synchronous}`);
  db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(settings.walAutocheckpointPages))}`);
  // After a burst the WAL file is cut back to this size at the next checkpoint instead of staying large.
  db.pragma('journal_size_limit = 4194304');
  // In-flight bookkeeping lives in a temp table: it must never reach the flash.
  db.pragma('temp_store = MEMORY');
}

/**
 * Creates the tables of a new file, checks the version of an existing one.
 * - rows: one chunk of samples (a SampleBatch blob) or one record per row; AUTOINCREMENT so a row id
 *   is never reused (a late PUBACK for a deleted row must not delete a newer one).
 * - streams: the per-stream sequence counter, committed with the rows that consume it.
 * - counters: cumulative counts that must survive restarts (evictions, recoveries).
 * - state: small key/value blobs for the agent.
 */
export function ensureSchema(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is newer than this agent's ${SCHEMA_VERSION}`);
  }
  if (version === SCHEMA_VERSION) return;
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  if (tables.n > 0) throw new Error('not a Roadlink store (it has tables but no Roadlink schema version)');
  db.exec(`
    BEGIN;
    CREATE TABLE streams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, next_seq INTEGER NOT NULL);
    CREATE TABLE rows (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      stream INTEGER NOT NULL,
      priority INTEGER NOT NULL,
      kind INTEGER NOT NULL,
      first_seq INTEGER NOT NULL,
      count INTEGER NOT NULL,
      time_us INTEGER NOT NULL,
      bytes BLOB NOT NULL
    );
    CREATE INDEX rows_by_priority ON rows (priority, id);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    PRAGMA user_version = ${SCHEMA_VERSION};
    COMMIT;
  `);
}

/** Temp (memory-only) table of row ids that nextBatch must skip: in flight, or acked and awaiting deletion. */
export function createSkipTable(db: Database.Database): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS skip (id INTEGER PRIMARY KEY)');
}
