/**
 * The storage contract (backend/db/backend-store.ts), the same suite against both implementations:
 * SQLite (a real file) and PostgreSQL (a real server, test/helpers/postgres.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Database from 'better-sqlite3';
import { openPostgresStore, openSqliteStore } from '../../backend/db/open-store.js';
import { migrate, MIGRATIONS } from '../../backend/db/migrations.js';
import { SqliteConnection } from '../../backend/db/sqlite-connection.js';
import { SignalTableMissingError } from '../../backend/db/upload-writer.js';
import { StoreError } from '../../backend/db/backend-store.js';
import type { SqlBackendStore } from '../../backend/db/sql-backend-store.js';
import { Postgres } from '../helpers/postgres.js';
import { alertEvent, checkin, DESCRIPTORS, speedSamples, status, T0, tripEvent, VIN, VIN_2 } from './store-fixtures.js';

interface Backend {
  name: 'sqlite' | 'postgres';
  /** A fresh, migrated store; `second` opens another store on the same database (a second worker). */
  open(): Promise<{ store: SqlBackendStore; second: () => Promise<SqlBackendStore> }>;
}

let postgres: Postgres | undefined;
let dir: string;
let counter = 0;
const opened: SqlBackendStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadlink-store-test-'));
  postgres = await Postgres.start();
}, 60_000);
afterAll(async () => {
  await postgres?.dispose();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

const keep = (store: SqlBackendStore) => (opened.push(store), store);

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const path = join(dir, `store-${++counter}.db`);
      return { store: keep(await openSqliteStore(path)), second: async () => keep(await openSqliteStore(path)) };
    },
  },
  {
    name: 'postgres',
    async open() {
      const url = await postgres!.createDatabase(`store_${++counter}`);
      return { store: keep(await openPostgresStore(url)), second: async () => keep(await openPostgresStore(url)) };
    },
  },
];

describe.each(BACKENDS)('BackendStore on $name', (backend) => {
  async function fresh(): Promise<SqlBackendStore> {
    const { store } = await backend.open();
    await store.applyUploads([checkin()]);
    return store;
  }

  it('records vehicles from checkins and pages them by VIN', async () => {
    const store = await fresh();
    await store.applyUploads([checkin(VIN_2), { kind: 'presence', vin: VIN, online: true, sinceMs: T0, bootId: 'b', reason: '' }]);
    const info = await store.vehicle(VIN);
    expect(info).toMatchObject({ vin: VIN, brand: 'Roadlink', model: 'Demo', fuelType: 'petrol', modelYear: 2024, rulesVersion: 3, capabilities: ['cmd:door_lock'], online: true, signalTable: 0x1234 });
    expect(await store.signalTable(VIN)).toEqual(DESCRIPTORS);
    const first = await store.listVehicles({ limit: 1 });
    expect(first.items.map((v) => v.vin)).toEqual([VIN_2]);
    const second = await store.listVehicles({ limit: 1, after: first.next });
    expect(second.items.map((v) => v.vin)).toEqual([VIN]);
    expect(second.next).toBeUndefined();
    expect((await store.listVehicles({ vins: [VIN] })).items.map((v) => v.vin)).toEqual([VIN]);
    await expect(store.listVehicles({ after: 'garbage!' })).rejects.toThrow(StoreError);
    await expect(store.listVehicles({ limit: 0 })).rejects.toThrow(/limit/);
    // An older checkin (a late duplicate) does not overwrite a newer one; the will sets offline.
    await store.applyUploads([{ ...checkin(VIN, T0 - 1000), model: 'Old' }, { kind: 'presence', vin: VIN, online: false, sinceMs: T0, bootId: 'b', reason: '' }]);
    expect(await store.vehicle(VIN)).toMatchObject({ model: 'Demo', online: false });
    expect(await store.vehicle('NOPE')).toBeUndefined();
  });

  it('stores samples once: a replay, an overlapping re-send and a reset store (new epoch)', async () => {
    const store = await fresh();
    expect(await store.applyUploads([speedSamples(1, 100)])).toEqual([{ written: 100, duplicates: 0, unknownSignals: 0 }]);
    expect(await store.applyUploads([speedSamples(1, 100)])).toEqual([{ written: 0, duplicates: 100, unknownSignals: 0 }]);
    // Rows 51..150 re-sent merged with new ones: only 101..150 are new.
    expect(await store.applyUploads([speedSamples(51, 100)])).toEqual([{ written: 50, duplicates: 50, unknownSignals: 0 }]);
    // The vehicle's store was reset: sequences restart at 1 under a new epoch, and are stored.
    const reset = speedSamples(1, 10, { epoch: 'e2' });
    for (let i = 0; i < reset.columns.sampleCount; i++) reset.columns.timeMs[i] += 3_600_000;
    expect(await store.applyUploads([reset])).toEqual([{ written: 10, duplicates: 0, unknownSignals: 0 }]);
    const series = (await store.samples(VIN, 'Vehicle.Speed', T0, T0 + 2 * 3_600_000))!;
    expect(series.timeMs.length).toBe(160);
    expect(Array.from(series.value.slice(0, 3))).toEqual([0.01, 0.02, 0.03]);
    expect(series.unit).toBe('km/h');
    expect(Array.from(series.timeMs).every((t, i, a) => i === 0 || t > a[i - 1])).toBe(true);
    expect((await store.storageFigures()).samples).toBe(160);
  });

  it('reads one signal over a time range, across hour pieces, exactly [from, to)', async () => {
    const store = await fresh();
    // 2 hours at 10 Hz: 72,000 samples, in uploads of 3,000 (5 minutes), one crossing each hour.
    const uploads = Array.from({ length: 24 }, (_, i) => speedSamples(1 + i * 3000, 3000));
    await store.applyUploads(uploads);
    const from = T0 + 3_500_000;
    const to = T0 + 3_700_000;
    const series = (await store.samples(VIN, 'Vehicle.Speed', from, to))!;
    expect(series.timeMs.length).toBe(2000);
    expect(series.timeMs[0]).toBe(from);
    expect(series.timeMs[1999]).toBe(to - 100);
    expect(series.value[0]).toBeCloseTo((1 + 35_000) * 0.01, 6);
    expect((await store.samples(VIN, 'Vehicle.Speed', T0 - 10_000, T0))!.timeMs.length).toBe(0);
    expect((await store.samples(VIN, 'Vehicle.Speed', T0, T0 + 10 * 3_600_000, 5))!.timeMs.length).toBe(5);
    expect(await store.samples(VIN, 'No.Such.Signal', T0, T0 + 1000)).toBeUndefined();
    expect((await store.signals(VIN)).map((s) => s.name)).toEqual(['Vehicle.Speed']);
  });

  it('gives position history from the latitude/longitude signals, else from status positions', async () => {
    const store = await fresh();
    await store.applyUploads([status(T0, 1000), status(T0 + 60_000, 1001)]);
    expect((await store.positions(VIN, T0, T0 + 3_600_000)).map((p) => p.timeMs)).toEqual([T0, T0 + 60_000]);
    await store.applyUploads([speedSamples(1, 50, { withPosition: true })]);
    const fixes = await store.positions(VIN, T0, T0 + 3_600_000);
    expect(fixes).toHaveLength(50);
    expect(fixes[0].lat).toBeCloseTo(48.8000001, 7);
    expect(fixes[0].lon).toBeCloseTo(2.3000001, 7);
  });

  it('keeps the newest status', async () => {
    const store = await fresh();
    await store.applyUploads([status(T0 + 10_000, 1010), status(T0, 1000)]);
    const s = (await store.status(VIN))!;
    expect(s).toMatchObject({ timeMs: T0 + 10_000, odometerKm: 1010, ignition: 'ON', rangeKm: 420, fuelLevelPct: 55, locked: false });
    expect(s.doors).toEqual([{ name: 'Row1.DriverSide', open: true, locked: false }]);
    expect(s.position).toMatchObject({ lat: 48.85, lon: 2.35 });
  });

  it('stores events by kind once, trips with their figures, paged newest first', async () => {
    const store = await fresh();
    const trips = Array.from({ length: 5 }, (_, i) => tripEvent(10 + i, T0 + i * 3_600_000));
    expect((await store.applyUploads([alertEvent(1), alertEvent(1), ...trips])).map((o) => o.written)).toEqual([1, 0, 1, 1, 1, 1, 1]);
    expect((await store.applyUploads([alertEvent(1, { epoch: 'e2' })]))[0].written).toBe(1);
    const page1 = await store.trips(VIN, { limit: 2 });
    expect(page1.items.map((t) => t.tripId)).toEqual(['trip-14', 'trip-13']);
    const page2 = await store.trips(VIN, { limit: 2, after: page1.next });
    expect(page2.items.map((t) => t.tripId)).toEqual(['trip-12', 'trip-11']);
    expect((await store.trips(VIN, { fromMs: T0 + 3_600_000, toMs: T0 + 3 * 3_600_000 })).items.map((t) => t.tripId)).toEqual(['trip-12', 'trip-11']);
    const one = (await store.trip(VIN, 'trip-12'))!;
    expect(one).toMatchObject({ distanceKm: 12.5, distanceSource: 'ODOMETER', durationS: 600, fuelUsedL: expect.closeTo(0.9, 5) });
    expect(one.departure).toMatchObject({ lat: 48.8, source: 'GNSS' });
    expect(await store.trip(VIN, one.id)).toEqual(one);
    const alerts = await store.events(VIN, { kinds: ['alert'] });
    expect(alerts.items).toHaveLength(2);
    expect(alerts.items[0].detail).toEqual({ code: 'tyre_pressure', active: true, severity: 'warning' });
    expect((await store.events(VIN)).items).toHaveLength(7);
    await expect(store.events(VIN, { kinds: ['nonsense' as 'alert'] })).rejects.toThrow(/unknown event kind/);
  });

  it('records monitor transitions under their monitor', async () => {
    const store = await fresh();
    const transition = { ...alertEvent(3), eventKind: 'geofence' as const, monitorId: 'home', detail: { monitorId: 'home', entered: false } };
    await store.applyUploads([transition]);
    const page = await store.monitorTransitions('home');
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ vin: VIN, kind: 'geofence', monitorId: 'home', detail: { entered: false } });
  });

  it('tracks remote commands through their responses; a final state is not undone', async () => {
    const store = await fresh();
    await store.applyUploads([checkin(VIN_2)]);
    const created = await store.createCommand({ id: 'c1', vin: VIN, action: 'door_lock', args: { a: '1' }, createdMs: T0 });
    expect(created).toMatchObject({ id: 'c1', vin: VIN, action: 'door_lock', state: 'PENDING', args: { a: '1' }, completedMs: 0 });
    await expect(store.createCommand({ id: 'c1', vin: VIN, action: 'x', createdMs: T0 })).rejects.toThrow(/exists/);
    const response = (state: 'IN_PROGRESS' | 'SUCCEEDED', timeMs: number, vin = VIN) => ({ kind: 'command-response' as const, vin, commandId: 'c1', state, reason: '', detail: '', timeMs });
    await store.applyUploads([response('IN_PROGRESS', T0 + 1)]);
    expect((await store.command('c1'))!.state).toBe('IN_PROGRESS');
    const outcomes = await store.applyUploads([response('SUCCEEDED', T0 + 2), response('IN_PROGRESS', T0 + 1), response('SUCCEEDED', T0 + 2, VIN_2)]);
    expect(outcomes[1]).toMatchObject({ written: 0, duplicates: 1 });
    expect(outcomes[2].rejected).toMatch(/another vehicle/);
    const done = (await store.command('c1'))!;
    expect(done.state).toBe('SUCCEEDED');
    expect(done.completedMs).toBeGreaterThan(0);
    expect((await store.commandResponses('c1')).map((r) => r.state)).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
    expect((await store.commands(VIN)).items.map((c) => c.id)).toEqual(['c1']);
    // A response to a command the API did not create (sent by the CLI) is recorded too.
    await store.applyUploads([{ ...response('SUCCEEDED', T0 + 5), commandId: 'cli-1' }]);
    expect(await store.command('cli-1')).toMatchObject({ action: '', state: 'SUCCEEDED' });
    await store.applyUploads([{ kind: 'rules-ack', vin: VIN, version: 4, accepted: false, error: 'bad rule', activeVersion: 3 }]);
    expect(await store.rulesAcks(VIN)).toEqual([expect.objectContaining({ version: 4, accepted: false, error: 'bad rule', activeVersion: 3 })]);
  });

  it('keeps monitors, API keys (hashed) and webhook deliveries', async () => {
    const store = await fresh();
    const monitor = await store.createMonitor({ id: 'm1', vin: VIN, kind: 'geofence-circle', shape: { center: [2.35, 48.85], radiusM: 500 }, callbackUrl: 'https://example.test/hook', secret: 's3cret', createdMs: T0 });
    expect(monitor).toMatchObject({ state: 'pending', shape: { radiusM: 500 } });
    expect(await store.updateMonitor('m1', { state: 'active', updatedMs: T0 + 1 })).toMatchObject({ state: 'active', updatedMs: T0 + 1 });
    expect(await store.updateMonitor('nope', { state: 'active', updatedMs: 1 })).toBeUndefined();
    await expect(store.createMonitor({ ...monitor, kind: 'square' as 'geofence-circle' })).rejects.toThrow(/monitor kind/);
    await expect(store.createMonitor({ ...monitor, vin: 'UNKNOWN' })).rejects.toThrow(/unknown vehicle/);
    expect((await store.monitors({ vin: VIN })).items.map((m) => m.id)).toEqual(['m1']);

    const token = 'rl_0123456789abcdef0123';
    const key = await store.createApiKey({ id: 'k1', name: 'fleet ops', token, vins: [VIN], canRead: true, canRemote: false, createdMs: T0 });
    expect(key).toEqual({ id: 'k1', name: 'fleet ops', vins: [VIN], canRead: true, canRemote: false, createdMs: T0, revokedMs: 0 });
    expect(await store.apiKeyByToken(token)).toEqual(key);
    expect(await store.apiKeyByToken('rl_wrong_token_000000')).toBeUndefined();
    expect(await store.revokeApiKey('k1', T0 + 5)).toBe(true);
    expect(await store.apiKeyByToken(token)).toBeUndefined();

    const delivery = await store.enqueueWebhook({ monitorId: 'm1', eventId: 7, url: monitor.callbackUrl, payload: { entered: true }, createdMs: T0 });
    expect(await store.dueWebhooks(T0)).toEqual([delivery]);
    await store.recordWebhookAttempt(delivery.id, { delivered: false, atMs: T0, error: 'HTTP 503', nextAttemptMs: T0 + 30_000 });
    expect(await store.dueWebhooks(T0 + 1)).toEqual([]);
    const retried = await store.recordWebhookAttempt(delivery.id, { delivered: true, atMs: T0 + 30_000 });
    expect(retried).toMatchObject({ state: 'delivered', attempts: 2, deliveredMs: T0 + 30_000 });
    expect((await store.webhookDeliveries('m1')).items).toHaveLength(1);
    expect(await store.deleteMonitor('m1')).toBe(true);
    expect(await store.monitor('m1')).toBeUndefined();
  });

  it('refuses samples of a signal table it has no checkin for, unless asked to keep them under ids', async () => {
    const { store } = await backend.open();
    await expect(store.applyUploads([speedSamples(1, 5)])).rejects.toThrow(SignalTableMissingError);
    expect((await store.storageFigures()).samples).toBe(0);
    expect(await store.applyUploads([speedSamples(1, 5)], { acceptUnknownSignalTables: true })).toEqual([{ written: 5, duplicates: 0, unknownSignals: 5 }]);
    expect((await store.signals(VIN)).map((s) => s.name)).toEqual(['#1']);
  });

  it('writes a message once when two workers apply copies of it at the same time', async () => {
    const { store, second } = await backend.open();
    const other = await second();
    await store.applyUploads([checkin()]);
    for (let round = 0; round < 5; round++) {
      const first = 1 + round * 200;
      const results = await Promise.all([store.applyUploads([speedSamples(first, 200), alertEvent(round + 1)]), other.applyUploads([alertEvent(round + 1), speedSamples(first, 200)])]);
      expect(results[0][0].written + results[1][1].written).toBe(200);
      expect(results[0][1].written + results[1][0].written).toBe(1);
    }
    expect((await store.storageFigures()).samples).toBe(1000);
    expect((await other.events(VIN)).items).toHaveLength(5);
  });

  it('rolls the whole batch back when one write fails', async () => {
    const store = await fresh();
    const broken = { ...alertEvent(9), detail: undefined as unknown as Record<string, unknown> }; // NOT NULL detail
    await expect(store.applyUploads([speedSamples(1, 10), broken])).rejects.toThrow();
    expect((await store.storageFigures()).samples).toBe(0);
    // Nothing was recorded as stored: the same samples are written when they come again.
    expect((await store.applyUploads([speedSamples(1, 10)]))[0].written).toBe(10);
  });
});

describe('migrations', () => {
  it('apply in order, once, and refuse a database from a newer version', async () => {
    const path = join(dir, 'migrations.db');
    const connection = new SqliteConnection(path);
    expect(await migrate(connection)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(connection)).toEqual([]);
    const extra = { version: 2, name: 'test column', statements: () => ['ALTER TABLE vehicles ADD COLUMN colour TEXT'] };
    expect(await migrate(connection, [...MIGRATIONS, extra])).toEqual([2]);
    await expect(migrate(connection)).rejects.toThrow(/schema version\(s\) 2 .* newer/);
    // A failing migration leaves no trace (its transaction rolled back).
    const failing = { version: 3, name: 'broken', statements: () => ['CREATE TABLE t3 (x INTEGER)', 'THIS IS NOT SQL'] };
    await expect(migrate(connection, [...MIGRATIONS, extra, failing])).rejects.toThrow();
    await connection.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([{ version: 1 }, { version: 2 }]);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't3'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('are applied once on PostgreSQL when two backends start together', async () => {
    const url = await postgres!.createDatabase('migrate_race');
    const stores = await Promise.all([openPostgresStore(url), openPostgresStore(url), openPostgresStore(url)]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    expect((await client.query('SELECT version FROM schema_migrations')).rows).toEqual([{ version: 1 }]);
    await client.end();
    for (const s of stores) await s.close();
  });
});
