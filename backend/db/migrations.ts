/**
 * Versioned schema migrations, shared by both dialects: each migration is numbered, applied in
 * order, each in its own transaction together with its row in `schema_migrations`. A database
 * already at a version skips it; a database from a NEWER version of the code (a migration number we
 * do not know) is refused rather than written with an older idea of the schema.
 *
 * Column types that differ between SQLite and PostgreSQL come from SqlTypes; everything else is
 * SQL both accept. Times are Unix ms (BIGINT); booleans are SMALLINT 0/1; JSON is TEXT.
 */
import type { SqlConnection, SqlExecutor, SqlTypes } from './sql-connection.js';

export interface Migration {
  version: number;
  name: string;
  statements: (types: SqlTypes) => string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'vehicles, uploads, telemetry, commands, monitors, api keys, webhooks',
    statements: (t) => [
      `CREATE TABLE vehicles (
        id ${t.serialKey},
        vin TEXT NOT NULL UNIQUE,
        brand TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', fuel_type TEXT NOT NULL DEFAULT '',
        model_year INTEGER NOT NULL DEFAULT 0, agent_version TEXT NOT NULL DEFAULT '', config_version TEXT NOT NULL DEFAULT '',
        rules_version BIGINT NOT NULL DEFAULT 0, capabilities TEXT NOT NULL DEFAULT '[]', boot_id TEXT NOT NULL DEFAULT '',
        signal_table BIGINT NOT NULL DEFAULT 0, checkin_ms BIGINT NOT NULL DEFAULT 0, first_seen_ms BIGINT NOT NULL,
        online SMALLINT NOT NULL DEFAULT 0, presence_since_ms BIGINT NOT NULL DEFAULT 0, presence_reason TEXT NOT NULL DEFAULT ''
      )`,
      `CREATE TABLE signal_tables (
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), table_id BIGINT NOT NULL, signals TEXT NOT NULL, received_ms BIGINT NOT NULL,
        PRIMARY KEY (vehicle_id, table_id)
      )`,
      // Signal names per vehicle, so that sample chunk rows carry a small id.
      `CREATE TABLE signals (
        id ${t.serialKey},
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), name TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '',
        UNIQUE (vehicle_id, name)
      )`,
      `CREATE TABLE vehicle_status (
        vehicle_id BIGINT PRIMARY KEY REFERENCES vehicles(id), time_ms BIGINT NOT NULL, position TEXT,
        speed_kmh ${t.float} NOT NULL, fuel_level_pct ${t.float} NOT NULL, battery_soc_pct ${t.float} NOT NULL, range_km ${t.float} NOT NULL,
        odometer_km ${t.float} NOT NULL, ignition TEXT NOT NULL, doors TEXT NOT NULL, locked SMALLINT NOT NULL, seq BIGINT NOT NULL,
        received_ms BIGINT NOT NULL
      )`,
      `CREATE TABLE status_positions (
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), time_ms BIGINT NOT NULL, lat ${t.float} NOT NULL, lon ${t.float} NOT NULL,
        alt_m ${t.float} NOT NULL, heading_deg ${t.float} NOT NULL, speed_kmh ${t.float} NOT NULL, source TEXT NOT NULL,
        PRIMARY KEY (vehicle_id, time_ms)
      )`,
      // Dedupe: per (vehicle, epoch, stream), the sequence numbers stored, as coalesced [first, end) ranges.
      `CREATE TABLE seq_streams (
        id ${t.serialKey},
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), epoch TEXT NOT NULL, stream TEXT NOT NULL,
        UNIQUE (vehicle_id, epoch, stream)
      )`,
      `CREATE TABLE seq_ranges (
        stream_id BIGINT NOT NULL REFERENCES seq_streams(id), first_seq BIGINT NOT NULL, end_seq BIGINT NOT NULL,
        PRIMARY KEY (stream_id, first_seq)
      )`,
      // Samples: one row per (vehicle, signal, piece of an upload's column within one hour), the
      // piece as a one-column SampleBatch (delta-of-delta times, delta raw values, zigzag varints).
      `CREATE TABLE sample_chunks (
        id ${t.serialKey},
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), signal_id BIGINT NOT NULL REFERENCES signals(id),
        t_first BIGINT NOT NULL, t_last BIGINT NOT NULL, sample_count INTEGER NOT NULL,
        scale ${t.float} NOT NULL, "offset" ${t.float} NOT NULL, chunk ${t.bytes} NOT NULL
      )`,
      `CREATE INDEX sample_chunks_by_signal_time ON sample_chunks (vehicle_id, signal_id, t_first)`,
      `CREATE TABLE events (
        id ${t.serialKey},
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), epoch TEXT NOT NULL, stream TEXT NOT NULL, seq BIGINT,
        time_ms BIGINT NOT NULL, kind TEXT NOT NULL, priority TEXT NOT NULL, monitor_id TEXT, position TEXT,
        detail TEXT NOT NULL, received_ms BIGINT NOT NULL,
        UNIQUE (vehicle_id, epoch, stream, seq)
      )`,
      `CREATE INDEX events_by_vehicle_time ON events (vehicle_id, time_ms, id)`,
      `CREATE INDEX events_by_vehicle_kind_time ON events (vehicle_id, kind, time_ms, id)`,
      `CREATE INDEX events_by_monitor_time ON events (monitor_id, time_ms, id)`,
      `CREATE TABLE trips (
        event_id BIGINT PRIMARY KEY REFERENCES events(id), vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), trip_id TEXT NOT NULL,
        departure_ms BIGINT NOT NULL, arrival_ms BIGINT NOT NULL, departure TEXT, arrival TEXT,
        distance_km ${t.float} NOT NULL, distance_source TEXT NOT NULL, duration_s BIGINT NOT NULL,
        max_speed_kmh ${t.float} NOT NULL, avg_speed_kmh ${t.float} NOT NULL, fuel_used_l ${t.float} NOT NULL, energy_used_kwh ${t.float} NOT NULL
      )`,
      `CREATE INDEX trips_by_vehicle_departure ON trips (vehicle_id, departure_ms, event_id)`,
      `CREATE INDEX trips_by_trip_id ON trips (vehicle_id, trip_id)`,
      `CREATE TABLE commands (
        id TEXT PRIMARY KEY, vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), action TEXT NOT NULL, args TEXT NOT NULL,
        state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',
        created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, completed_ms BIGINT NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX commands_by_vehicle_created ON commands (vehicle_id, created_ms, id)`,
      `CREATE TABLE command_responses (
        command_id TEXT NOT NULL REFERENCES commands(id), state TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
        time_ms BIGINT NOT NULL, received_ms BIGINT NOT NULL,
        PRIMARY KEY (command_id, state, time_ms)
      )`,
      `CREATE TABLE rules_acks (
        vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), version BIGINT NOT NULL, accepted SMALLINT NOT NULL, error TEXT NOT NULL,
        active_version BIGINT NOT NULL, received_ms BIGINT NOT NULL,
        PRIMARY KEY (vehicle_id, version)
      )`,
      `CREATE TABLE monitors (
        id TEXT PRIMARY KEY, vehicle_id BIGINT NOT NULL REFERENCES vehicles(id), kind TEXT NOT NULL, shape TEXT NOT NULL,
        state TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', callback_url TEXT NOT NULL, secret TEXT NOT NULL,
        created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL
      )`,
      `CREATE INDEX monitors_by_vehicle ON monitors (vehicle_id, id)`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, token_sha256 TEXT NOT NULL UNIQUE, vins TEXT,
        can_read SMALLINT NOT NULL, can_remote SMALLINT NOT NULL, created_ms BIGINT NOT NULL, revoked_ms BIGINT NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE webhook_deliveries (
        id ${t.serialKey},
        monitor_id TEXT NOT NULL, event_id BIGINT NOT NULL, url TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '',
        created_ms BIGINT NOT NULL, delivered_ms BIGINT NOT NULL DEFAULT 0
      )`,
      `CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms, id)`,
      `CREATE INDEX webhook_deliveries_by_monitor ON webhook_deliveries (monitor_id, id)`,
    ],
  },
];

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Brings the database to the latest version; resolves to the versions applied now (empty when it
 * was up to date). Concurrent starters are safe: PostgreSQL serialises them on an advisory lock,
 * SQLite on its write lock, and a version applied meanwhile is skipped.
 */
export async function migrate(connection: SqlConnection, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const lock = async (tx: SqlExecutor) => {
    if (connection.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(7275616)');
  };
  await connection.transaction(async (tx) => {
    await lock(tx);
    await tx.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
  });
  const known = new Set(migrations.map((m) => m.version));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await connection.transaction(async (tx) => {
      await lock(tx);
      const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
      const unknown = rows.map((r) => Number(r.version)).filter((v) => !known.has(v));
      if (unknown.length > 0) throw new MigrationError(`the database has schema version(s) ${unknown.join(', ')} that this code does not know: it is newer than this backend`);
      if (rows.some((r) => Number(r.version) === migration.version)) return false;
      for (const statement of migration.statements(connection.types)) await tx.run(statement);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)', [migration.version, migration.name, Date.now()]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
