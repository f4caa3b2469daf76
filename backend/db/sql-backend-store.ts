/**
 * BackendStore on a SqlConnection: the one SQL layer both dialects run (placeholders and column
 * types are the connection's business). Writes from ingest go through UploadWriter; everything
 * else is here.
 */
import { createHash } from 'node:crypto';
import type {
  ApiKeyRecord, BackendStore, CommandRecord, CommandResponseRecord, EventQuery, EventRecord, MonitorRecord, MonitorUpdate, NewApiKey,
  NewCommand, NewMonitor, NewWebhookDelivery, Page, PageQuery, PositionFix, RulesAckRecord, SignalInfo, SignalSeries, StorageFigures,
  TimeRangeQuery, TripRecord, VehicleInfo, VehicleStatus, WebhookAttempt, WebhookDelivery,
} from './backend-store.js';
import { StoreError } from './backend-store.js';
import { decodeCursor, pageLimit, pageOf } from './paging.js';
import * as rows from './row-records.js';
import { appendPieceSamples, CHUNK_SPAN_MS } from './sample-pieces.js';
import type { SqlConnection, SqlValue } from './sql-connection.js';
import { UploadWriter, type WriteOptions, type WriterCaches } from './upload-writer.js';
import type { SignalDescriptor, Upload, UploadOutcome } from './uploads.js';
import { EVENT_KINDS } from './uploads.js';

export const LATITUDE_SIGNAL = 'Vehicle.CurrentLocation.Latitude';
export const LONGITUDE_SIGNAL = 'Vehicle.CurrentLocation.Longitude';
const MONITOR_KINDS = new Set(['geofence-circle', 'geofence-polygon']);
const SAMPLE_TABLES = ['sample_chunks'];

type Row = Record<string, unknown>;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** ` AND column >= ? AND column < ?` for the bounds given, and after the cursor (time, id) descending. */
function timeWindow(timeColumn: string, idColumn: string, q: TimeRangeQuery): { sql: string; params: SqlValue[] } {
  let sql = '';
  const params: SqlValue[] = [];
  if (q.fromMs !== undefined) (sql += ` AND ${timeColumn} >= ?`), params.push(q.fromMs);
  if (q.toMs !== undefined) (sql += ` AND ${timeColumn} < ?`), params.push(q.toMs);
  if (q.after !== undefined) {
    const [t, id] = decodeCursor(q.after, 'nn');
    sql += ` AND (${timeColumn} < ? OR (${timeColumn} = ? AND ${idColumn} < ?))`;
    params.push(t, t, id);
  }
  return { sql, params };
}

export class SqlBackendStore implements BackendStore {
  private readonly caches: WriterCaches = { vehicleIds: new Map(), signalIds: new Map(), signalTables: new Map() };

  constructor(private readonly db: SqlConnection) {}

  get dialect(): 'sqlite' | 'postgres' {
    return this.db.dialect;
  }

  /** True for database errors that may pass (the caller retries later). */
  isTransient(err: unknown): boolean {
    return this.db.isTransient(err);
  }

  async applyUploads(uploads: readonly Upload[], options: Partial<WriteOptions> = {}): Promise<UploadOutcome[]> {
    if (uploads.length === 0) return [];
    const writeOptions = { nowMs: Date.now(), ...options };
    let writer: UploadWriter | undefined;
    const outcomes = await this.db.transaction((tx) => {
      writer = new UploadWriter(tx, this.caches, writeOptions);
      return writer.applyAll(uploads);
    });
    const created = writer!.created;
    for (const [k, v] of created.vehicleIds) this.caches.vehicleIds.set(k, v);
    for (const [k, v] of created.signalIds) this.caches.signalIds.set(k, v);
    for (const [k, v] of created.signalTables) this.caches.signalTables.set(k, v);
    return outcomes;
  }

  // --- vehicles ---------------------------------------------------------------------------------

  async listVehicles(query: PageQuery & { vins?: readonly string[] } = {}): Promise<Page<VehicleInfo>> {
    const limit = pageLimit(query.limit);
    const params: SqlValue[] = [];
    let where = '1 = 1';
    if (query.after !== undefined) (where += ' AND vin > ?'), params.push(String(decodeCursor(query.after, 's')[0]));
    if (query.vins) {
      if (query.vins.length === 0) return { items: [] };
      where += ` AND vin IN (${query.vins.map(() => '?').join(', ')})`;
      params.push(...query.vins);
    }
    const found = await this.db.query(`SELECT * FROM vehicles WHERE ${where} ORDER BY vin LIMIT ?`, [...params, limit + 1]);
    return pageOf(found, limit, rows.vehicleInfo, (r) => [String(r.vin)]);
  }

  async vehicle(vin: string): Promise<VehicleInfo | undefined> {
    const [row] = await this.db.query('SELECT * FROM vehicles WHERE vin = ?', [vin]);
    return row ? rows.vehicleInfo(row) : undefined;
  }

  async signalTable(vin: string): Promise<SignalDescriptor[]> {
    const [row] = await this.db.query<{ signals: string }>(
      'SELECT t.signals FROM vehicles v JOIN signal_tables t ON t.vehicle_id = v.id AND t.table_id = v.signal_table WHERE v.vin = ?', [vin]);
    return row ? (JSON.parse(row.signals) as SignalDescriptor[]) : [];
  }

  async status(vin: string): Promise<VehicleStatus | undefined> {
    const [row] = await this.db.query('SELECT v.vin, s.* FROM vehicle_status s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.vin = ?', [vin]);
    return row ? rows.vehicleStatus(row) : undefined;
  }

  // --- trips and events -------------------------------------------------------------------------

  async trips(vin: string, query: TimeRangeQuery = {}): Promise<Page<TripRecord>> {
    const limit = pageLimit(query.limit);
    const w = timeWindow('t.departure_ms', 't.event_id', query);
    const found = await this.db.query(
      `SELECT v.vin, t.* FROM trips t JOIN vehicles v ON v.id = t.vehicle_id WHERE v.vin = ?${w.sql} ORDER BY t.departure_ms DESC, t.event_id DESC LIMIT ?`,
      [vin, ...w.params, limit + 1]);
    return pageOf(found, limit, rows.tripRecord, (r) => [Number(r.departure_ms), Number(r.event_id)]);
  }

  async trip(vin: string, id: number | string): Promise<TripRecord | undefined> {
    const column = typeof id === 'number' ? 't.event_id' : 't.trip_id';
    const [row] = await this.db.query(`SELECT v.vin, t.* FROM trips t JOIN vehicles v ON v.id = t.vehicle_id WHERE v.vin = ? AND ${column} = ? ORDER BY t.event_id DESC LIMIT 1`, [vin, id]);
    return row ? rows.tripRecord(row) : undefined;
  }

  async events(vin: string, query: EventQuery = {}): Promise<Page<EventRecord>> {
    const limit = pageLimit(query.limit);
    const w = timeWindow('e.time_ms', 'e.id', query);
    let kinds = '';
    if (query.kinds) {
      for (const k of query.kinds) if (!(EVENT_KINDS as readonly string[]).includes(k)) throw new StoreError(`unknown event kind "${k}"`);
      if (query.kinds.length === 0) return { items: [] };
      kinds = ` AND e.kind IN (${query.kinds.map(() => '?').join(', ')})`;
    }
    const found = await this.db.query(
      `SELECT v.vin, e.* FROM events e JOIN vehicles v ON v.id = e.vehicle_id WHERE v.vin = ?${kinds}${w.sql} ORDER BY e.time_ms DESC, e.id DESC LIMIT ?`,
      [vin, ...(query.kinds ?? []), ...w.params, limit + 1]);
    return pageOf(found, limit, rows.eventRecord, (r) => [Number(r.time_ms), Number(r.id)]);
  }

  async event(vin: string, id: number): Promise<EventRecord | undefined> {
    const [row] = await this.db.query('SELECT v.vin, e.* FROM events e JOIN vehicles v ON v.id = e.vehicle_id WHERE v.vin = ? AND e.id = ?', [vin, id]);
    return row ? rows.eventRecord(row) : undefined;
  }

  async monitorTransitions(monitorId: string, query: TimeRangeQuery = {}): Promise<Page<EventRecord>> {
    const limit = pageLimit(query.limit);
    const w = timeWindow('e.time_ms', 'e.id', query);
    const found = await this.db.query(
      `SELECT v.vin, e.* FROM events e JOIN vehicles v ON v.id = e.vehicle_id WHERE e.monitor_id = ?${w.sql} ORDER BY e.time_ms DESC, e.id DESC LIMIT ?`,
      [monitorId, ...w.params, limit + 1]);
    return pageOf(found, limit, rows.eventRecord, (r) => [Number(r.time_ms), Number(r.id)]);
  }

  // --- telemetry --------------------------------------------------------------------------------

  async signals(vin: string): Promise<SignalInfo[]> {
    const found = await this.db.query<{ name: string; unit: string }>(
      'SELECT s.name, s.unit FROM signals s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.vin = ? ORDER BY s.name', [vin]);
    return found.map((r) => ({ name: r.name, unit: r.unit }));
  }

  async samples(vin: string, signal: string, fromMs: number, toMs: number, limit = 1_000_000): Promise<SignalSeries | undefined> {
    const [s] = await this.db.query<{ id: number; vehicle_id: number; unit: string }>(
      'SELECT s.id, s.vehicle_id, s.unit FROM signals s JOIN vehicles v ON v.id = s.vehicle_id WHERE v.vin = ? AND s.name = ?', [vin, signal]);
    if (!s) return undefined;
    const chunks = await this.db.query<{ scale: number; offset: number; chunk: Uint8Array }>(
      `SELECT scale, "offset", chunk FROM sample_chunks WHERE vehicle_id = ? AND signal_id = ? AND t_first > ? AND t_first < ? AND t_last >= ? ORDER BY t_first, id`,
      [Number(s.vehicle_id), Number(s.id), fromMs - CHUNK_SPAN_MS, toMs, fromMs]);
    const out = { timeMs: [] as number[], value: [] as number[] };
    for (const c of chunks) appendPieceSamples(out, c.chunk, Number(c.scale), Number(c.offset), fromMs, toMs);
    let order: number[] | undefined;
    for (let i = 1; i < out.timeMs.length; i++) {
      if (out.timeMs[i] < out.timeMs[i - 1]) {
        order = out.timeMs.map((_, k) => k).sort((a, b) => out.timeMs[a] - out.timeMs[b] || a - b);
        break;
      }
    }
    const n = Math.min(limit, out.timeMs.length);
    const timeMs = new Float64Array(n);
    const value = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = order ? order[i] : i;
      timeMs[i] = out.timeMs[k];
      value[i] = out.value[k];
    }
    return { signal, unit: s.unit, timeMs, value };
  }

  async positions(vin: string, fromMs: number, toMs: number, limit = 100_000): Promise<PositionFix[]> {
    const lat = await this.samples(vin, LATITUDE_SIGNAL, fromMs, toMs);
    const lon = lat && lat.timeMs.length > 0 ? await this.samples(vin, LONGITUDE_SIGNAL, fromMs, toMs) : undefined;
    if (lat && lon && lon.timeMs.length > 0) {
      const fixes: PositionFix[] = [];
      for (let i = 0, j = 0; i < lat.timeMs.length && j < lon.timeMs.length && fixes.length < limit;) {
        if (lat.timeMs[i] < lon.timeMs[j]) i++;
        else if (lat.timeMs[i] > lon.timeMs[j]) j++;
        else {
          fixes.push({ lat: lat.value[i], lon: lon.value[j], altM: 0, headingDeg: 0, speedKmh: 0, timeMs: lat.timeMs[i], source: '' });
          i++;
          j++;
        }
      }
      return fixes;
    }
    const found = await this.db.query(
      `SELECT p.* FROM status_positions p JOIN vehicles v ON v.id = p.vehicle_id WHERE v.vin = ? AND p.time_ms >= ? AND p.time_ms < ? ORDER BY p.time_ms LIMIT ?`,
      [vin, fromMs, toMs, limit]);
    return found.map((r) => ({
      lat: Number(r.lat), lon: Number(r.lon), altM: Number(r.alt_m), headingDeg: Number(r.heading_deg), speedKmh: Number(r.speed_kmh),
      timeMs: Number(r.time_ms), source: String(r.source),
    }));
  }

  // --- remote commands --------------------------------------------------------------------------

  private async requireVehicleId(vin: string): Promise<number> {
    const [row] = await this.db.query<{ id: number }>('SELECT id FROM vehicles WHERE vin = ?', [vin]);
    if (!row) throw new StoreError(`unknown vehicle ${vin}`);
    return Number(row.id);
  }

  async createCommand(command: NewCommand): Promise<CommandRecord> {
    const vehicleId = await this.requireVehicleId(command.vin);
    const added = await this.db.run(
      `INSERT INTO commands (id, vehicle_id, action, args, state, created_ms, updated_ms) VALUES (?, ?, ?, ?, 'PENDING', ?, ?) ON CONFLICT (id) DO NOTHING`,
      [command.id, vehicleId, command.action, JSON.stringify(command.args ?? {}), command.createdMs, command.createdMs]);
    if (added === 0) throw new StoreError(`command ${command.id} exists already`);
    return (await this.command(command.id))!;
  }

  async command(id: string): Promise<CommandRecord | undefined> {
    const [row] = await this.db.query('SELECT v.vin, c.* FROM commands c JOIN vehicles v ON v.id = c.vehicle_id WHERE c.id = ?', [id]);
    return row ? rows.commandRecord(row) : undefined;
  }

  async commands(vin: string, query: TimeRangeQuery = {}): Promise<Page<CommandRecord>> {
    const limit = pageLimit(query.limit);
    const { fromMs, toMs } = query;
    let sql = '';
    const params: SqlValue[] = [];
    if (fromMs !== undefined) (sql += ' AND c.created_ms >= ?'), params.push(fromMs);
    if (toMs !== undefined) (sql += ' AND c.created_ms < ?'), params.push(toMs);
    if (query.after !== undefined) {
      const [t, id] = decodeCursor(query.after, 'ns');
      sql += ' AND (c.created_ms < ? OR (c.created_ms = ? AND c.id < ?))';
      params.push(t, t, id);
    }
    const found = await this.db.query(
      `SELECT v.vin, c.* FROM commands c JOIN vehicles v ON v.id = c.vehicle_id WHERE v.vin = ?${sql} ORDER BY c.created_ms DESC, c.id DESC LIMIT ?`,
      [vin, ...params, limit + 1]);
    return pageOf(found, limit, rows.commandRecord, (r) => [Number(r.created_ms), String(r.id)]);
  }

  async commandResponses(id: string): Promise<CommandResponseRecord[]> {
    const found = await this.db.query('SELECT * FROM command_responses WHERE command_id = ? ORDER BY received_ms, time_ms', [id]);
    return found.map(rows.commandResponseRecord);
  }

  async rulesAcks(vin: string): Promise<RulesAckRecord[]> {
    const found = await this.db.query('SELECT v.vin, r.* FROM rules_acks r JOIN vehicles v ON v.id = r.vehicle_id WHERE v.vin = ? ORDER BY r.version DESC', [vin]);
    return found.map(rows.rulesAckRecord);
  }

  // --- monitors ---------------------------------------------------------------------------------

  async createMonitor(m: NewMonitor): Promise<MonitorRecord> {
    if (!MONITOR_KINDS.has(m.kind)) throw new StoreError(`unknown monitor kind "${m.kind}"`);
    const vehicleId = await this.requireVehicleId(m.vin);
    const added = await this.db.run(
      `INSERT INTO monitors (id, vehicle_id, kind, shape, state, callback_url, secret, created_ms, updated_ms) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [m.id, vehicleId, m.kind, JSON.stringify(m.shape), m.callbackUrl, m.secret, m.createdMs, m.createdMs]);
    if (added === 0) throw new StoreError(`monitor ${m.id} exists already`);
    return (await this.monitor(m.id))!;
  }

  async monitor(id: string): Promise<MonitorRecord | undefined> {
    const [row] = await this.db.query('SELECT v.vin, m.* FROM monitors m JOIN vehicles v ON v.id = m.vehicle_id WHERE m.id = ?', [id]);
    return row ? rows.monitorRecord(row) : undefined;
  }

  async monitors(query: PageQuery & { vin?: string } = {}): Promise<Page<MonitorRecord>> {
    const limit = pageLimit(query.limit);
    let sql = '';
    const params: SqlValue[] = [];
    if (query.vin !== undefined) (sql += ' AND v.vin = ?'), params.push(query.vin);
    if (query.after !== undefined) (sql += ' AND m.id > ?'), params.push(String(decodeCursor(query.after, 's')[0]));
    const found = await this.db.query(`SELECT v.vin, m.* FROM monitors m JOIN vehicles v ON v.id = m.vehicle_id WHERE 1 = 1${sql} ORDER BY m.id LIMIT ?`, [...params, limit + 1]);
    return pageOf(found, limit, rows.monitorRecord, (r) => [String(r.id)]);
  }

  async updateMonitor(id: string, u: MonitorUpdate): Promise<MonitorRecord | undefined> {
    if (u.state !== undefined && !['pending', 'active', 'failed'].includes(u.state)) throw new StoreError(`unknown monitor state "${u.state}"`);
    const sets: string[] = ['updated_ms = ?'];
    const params: SqlValue[] = [u.updatedMs];
    if (u.state !== undefined) sets.push('state = ?'), params.push(u.state);
    if (u.error !== undefined) sets.push('error = ?'), params.push(u.error);
    if (u.callbackUrl !== undefined) sets.push('callback_url = ?'), params.push(u.callbackUrl);
    if (u.secret !== undefined) sets.push('secret = ?'), params.push(u.secret);
    if (u.shape !== undefined) sets.push('shape = ?'), params.push(JSON.stringify(u.shape));
    const changed = await this.db.run(`UPDATE monitors SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    return changed ? this.monitor(id) : undefined;
  }

  async deleteMonitor(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM monitors WHERE id = ?', [id])) > 0;
  }

  // --- API keys ---------------------------------------------------------------------------------

  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    if (key.token.length < 16) throw new StoreError('an API key token must have at least 16 characters');
    const added = await this.db.run(
      `INSERT INTO api_keys (id, name, token_sha256, vins, can_read, can_remote, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [key.id, key.name, tokenHash(key.token), key.vins ? JSON.stringify(key.vins) : null, key.canRead ? 1 : 0, key.canRemote ? 1 : 0, key.createdMs]);
    if (added === 0) throw new StoreError(`API key ${key.id} (or its token) exists already`);
    const [row] = await this.db.query('SELECT * FROM api_keys WHERE id = ?', [key.id]);
    return rows.apiKeyRecord(row);
  }

  async apiKeyByToken(token: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.query('SELECT * FROM api_keys WHERE token_sha256 = ? AND revoked_ms = 0', [tokenHash(token)]);
    return row ? rows.apiKeyRecord(row) : undefined;
  }

  async apiKeys(query: PageQuery = {}): Promise<Page<ApiKeyRecord>> {
    const limit = pageLimit(query.limit);
    const after = query.after !== undefined ? String(decodeCursor(query.after, 's')[0]) : '';
    const found = await this.db.query('SELECT * FROM api_keys WHERE id > ? ORDER BY id LIMIT ?', [after, limit + 1]);
    return pageOf(found, limit, rows.apiKeyRecord, (r) => [String(r.id)]);
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    return (await this.db.run('UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0', [atMs, id])) > 0;
  }

  // --- webhook deliveries -----------------------------------------------------------------------

  async enqueueWebhook(d: NewWebhookDelivery): Promise<WebhookDelivery> {
    const [row] = await this.db.query(
      `INSERT INTO webhook_deliveries (monitor_id, event_id, url, payload, state, next_attempt_ms, created_ms) VALUES (?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
      [d.monitorId, d.eventId, d.url, JSON.stringify(d.payload), d.createdMs, d.createdMs]);
    return rows.webhookDelivery(row);
  }

  async dueWebhooks(nowMs: number, limit = 100): Promise<WebhookDelivery[]> {
    const found = await this.db.query(`SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT ?`, [nowMs, limit]);
    return found.map(rows.webhookDelivery);
  }

  async recordWebhookAttempt(id: number, a: WebhookAttempt): Promise<WebhookDelivery | undefined> {
    const state = a.delivered ? 'delivered' : a.final ? 'failed' : 'pending';
    const [row] = await this.db.query(
      `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_ms = ?, delivered_ms = ? WHERE id = ? AND state = 'pending' RETURNING *`,
      [state, a.error ?? '', a.nextAttemptMs ?? a.atMs, a.delivered ? a.atMs : 0, id]);
    return row ? rows.webhookDelivery(row) : undefined;
  }

  async webhookDeliveries(monitorId: string, query: PageQuery = {}): Promise<Page<WebhookDelivery>> {
    const limit = pageLimit(query.limit);
    const after = query.after !== undefined ? Number(decodeCursor(query.after, 'n')[0]) : Number.MAX_SAFE_INTEGER;
    const found = await this.db.query('SELECT * FROM webhook_deliveries WHERE monitor_id = ? AND id < ? ORDER BY id DESC LIMIT ?', [monitorId, after, limit + 1]);
    return pageOf(found, limit, rows.webhookDelivery, (r: Row) => [Number(r.id)]);
  }

  // --- housekeeping -----------------------------------------------------------------------------

  async storageFigures(): Promise<StorageFigures> {
    const [row] = await this.db.query<{ n: number | null }>('SELECT sum(sample_count) AS n FROM sample_chunks');
    const sizes = await this.db.sizes(SAMPLE_TABLES);
    return { samples: Number(row?.n ?? 0), sampleBytes: sizes.tables, totalBytes: sizes.total };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
