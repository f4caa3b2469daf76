/**
 * SqlConnection over better-sqlite3 (the embedded default): one file, WAL, a busy timeout so that
 * several processes may share it. better-sqlite3 is synchronous; transactions are serialised
 * through a queue so that two async callers never interleave inside one.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { SqlConnection, SqlExecutor, SqlRow, SqlTypes, SqlValue } from './sql-connection.js';

/** How long a transaction waits for another connection's write lock before failing (transiently). */
const BUSY_WAIT_MS = 30_000;
const SQLITE_TYPES: SqlTypes = { serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT', bytes: 'BLOB', float: 'REAL' };

export class SqliteConnection implements SqlConnection {
  readonly dialect = 'sqlite';
  readonly types = SQLITE_TYPES;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly executor: SqlExecutor;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Short: the wait blocks the event loop. BEGIN retries asynchronously instead (beginWrite).
    this.db.pragma('busy_timeout = 20');
    this.db.pragma('foreign_keys = ON');
    this.executor = {
      query: async <T extends SqlRow>(sql: string, params: readonly SqlValue[] = []) => this.statement(sql).all(...params) as T[],
      run: async (sql: string, params: readonly SqlValue[] = []) => this.statement(sql).run(...params).changes,
    };
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.executor.query<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.executor.run(sql, params);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      await this.beginWrite();
      try {
        const value = await work(this.executor);
        this.db.exec('COMMIT');
        return value;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** BEGIN IMMEDIATE, waiting (without blocking the event loop) while another connection writes. */
  private async beginWrite(): Promise<void> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        this.db.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async sizes(tables: readonly string[]): Promise<{ tables: number; total: number }> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    let used = 0;
    try {
      const rows = this.db.prepare(`SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN (${tables.map(() => '?').join(',')}) OR tbl_name IN (${tables.map(() => '?').join(',')})`).get(...tables, ...tables) as { bytes: number | null };
      used = rows.bytes ?? 0;
    } catch {
      used = NaN; // dbstat not compiled in
    }
    return { tables: used, total: statSync(this.path).size };
  }

  isTransient(err: unknown): boolean {
    const code = (err as { code?: unknown })?.code;
    return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN)/.test(code);
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}
