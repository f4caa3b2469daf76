/**
 * The store's SQLite schema and connection settings (see store.ts for the design).
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';

/** Bump with a migration when the schema changes; a newer file is refused, never rewritten. */
export const SCHEMA_VERSION = 1;

/**
 * Row ids are `priority * ROW_ID_SPAN + n` with n increasing for every row the process inserts:
 * the table's own b-tree is then ordered by priority, then age, so nextBatch and eviction scan an id
 * range and no secondary index has to be written at each commit. n starts above the largest stored
 * id at open and never goes back within a process, so a late ack cannot hit a newer row.
 */
export const ROW_ID_SPAN = 2 ** 48;

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
  /** SQLite page size for a new file (512..65536, a power of two). */
  pageSize: number;
  /** WAL pages after which a commit checkpoints into the main file. */
  walAutocheckpointPages: number;
}

/** Pragmas applied on every open. The first statement is the first read of the file. */
export function applySettings(db: Database.Database, settings: ConnectionSettings): void {
  // Takes effect only on a new file (before its first write); small pages keep each commit's
  // rewritten pages (the row's leaf, the last overflow page) small.
  db.pragma(`page_size = ${settings.pageSize}`);
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
 * - rows: one chunk of samples (a SampleBatch blob) or one record per row (id: see ROW_ID_SPAN);
 *   small columns first so that scans without the blob stay on the leaf pages.
 * - streams: name -> id, and the sequence counter. To spare a page write per commit, next_seq is
 *   only written when a commit deletes rows (ack, eviction) or creates the stream: a stream's
 *   committed counter is max(next_seq, max(first_seq + count) of its rows), because the rows that
 *   carried the highest seqs are either still there or were deleted by a commit that wrote next_seq.
 * - counters: cumulative counts that must survive restarts (evictions, recoveries).
 * - state: small key/value blobs for the agent; the store's own entries start with `store.`: the
 *   store epoch (EPOCH_KEY) is written with the tables, in the same transaction.
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
      id INTEGER PRIMARY KEY,
      stream INTEGER NOT NULL,
      priority INTEGER NOT NULL,
      kind INTEGER NOT NULL,
      first_seq INTEGER NOT NULL,
      count INTEGER NOT NULL,
      time_us INTEGER NOT NULL,
      bytes BLOB NOT NULL
    );
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
  try {
    db.prepare('INSERT INTO state (key, value) VALUES (?, ?)').run(EPOCH_KEY, Buffer.from(newEpoch()));
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Key (in `state`) of the store epoch: a random id made with the file. Sequence numbers count per
 * stream within one file, so a new file (after a corrupt one was moved aside) starts them at 1 again;
 * the epoch tells the backend that this is a new sequence space, not duplicates (proto/README.md).
 * Kept in `state`, not in a table of its own, so that files stay schema version 1: an older agent
 * opening this file ignores the key instead of refusing a newer schema.
 */
export const EPOCH_KEY = 'store.epoch';

/** A new epoch: 72 random bits, 12 characters of base64url (it is sent on every uplink message). */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * The file's epoch. A file made before epochs existed gets one now (its sequences go on, under an
 * epoch the backend has not seen: a new space, never mistaken for duplicates).
 */
export function storeEpoch(db: Database.Database): string {
  const row = db.prepare('SELECT value FROM state WHERE key = ?').get(EPOCH_KEY) as { value: Uint8Array | string } | undefined;
  if (row) return Buffer.from(row.value).toString('utf8');
  const epoch = newEpoch();
  db.prepare('INSERT INTO state (key, value) VALUES (?, ?)').run(EPOCH_KEY, Buffer.from(epoch));
  return epoch;
}

/** Temp (memory-only) table of row ids that nextBatch must skip: in flight, or acked and awaiting deletion. */
export function createSkipTable(db: Database.Database): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS skip (id INTEGER PRIMARY KEY)');
}
