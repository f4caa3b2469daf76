/** Opening a BackendStore: the SQLite file (embedded default) or a PostgreSQL URL, migrated to the latest schema. */
import { migrate } from './migrations.js';
import { PostgresConnection } from './postgres-connection.js';
import { SqlBackendStore } from './sql-backend-store.js';
import type { SqlConnection } from './sql-connection.js';
import { SqliteConnection } from './sqlite-connection.js';

async function opened(connection: SqlConnection): Promise<SqlBackendStore> {
  try {
    await migrate(connection);
  } catch (err) {
    await connection.close();
    throw err;
  }
  return new SqlBackendStore(connection);
}

export function openSqliteStore(path: string): Promise<SqlBackendStore> {
  return opened(new SqliteConnection(path));
}

export function openPostgresStore(url: string, options: { maxConnections?: number } = {}): Promise<SqlBackendStore> {
  return opened(new PostgresConnection(url, options));
}

/** `postgres://...` / `postgresql://...` -> PostgreSQL; anything else is a SQLite file path. */
export function openStore(location: string): Promise<SqlBackendStore> {
  return /^postgres(ql)?:\/\//.test(location) ? openPostgresStore(location) : openSqliteStore(location);
}
