/**
 * The little the store needs from a database driver, so that one SQL layer (sql-backend-store.ts)
 * serves SQLite and PostgreSQL. Statements use `?` placeholders (the PostgreSQL connection numbers
 * them); values are numbers, strings, byte buffers or null (booleans are stored as 0/1).
 */
export type SqlValue = number | string | Buffer | Uint8Array | null;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /** Rows of a statement (SELECT, or INSERT/UPDATE ... RETURNING). */
  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** Column types and phrases that differ between the dialects (used by migrations.ts). */
export interface SqlTypes {
  /** An auto-incremented 64-bit primary key column type. */
  serialKey: string;
  bytes: string;
  float: string;
}

export interface SqlConnection extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  readonly types: SqlTypes;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Bytes used by these tables (with their indexes), and by the whole database. */
  sizes(tables: readonly string[]): Promise<{ tables: number; total: number }>;
  /** True for errors that may pass (connection lost, server restarting, lock conflicts): retry later. */
  isTransient(err: unknown): boolean;
  close(): Promise<void>;
}
