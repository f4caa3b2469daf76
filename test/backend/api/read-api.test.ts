/**
 * The read side of the Web API over real stores (SQLite file and PostgreSQL): every response is
 * validated against the OpenAPI document (api-fixtures.ts); HAL links and paging, GeoJSON, RFC 3339,
 * problem documents for bad input, and the bearer keys' scopes (401/403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../backend/api/openapi.js';
import { T0, VIN, VIN_2 } from '../store-fixtures.js';
import { expectProblemNaming, RFC3339, seedFleet, startApi, StoreFactory, type ApiSetup, type Dialect } from './api-fixtures.js';

const factory = new StoreFactory();
afterAll(() => factory.dispose());

describe.each<Dialect>(['sqlite', 'postgres'])('read API on %s', (dialect) => {
  let api: ApiSetup;
  beforeAll(async () => {
    const store = await factory.open(dialect);
    await seedFleet(store);
    api = await startApi(store);
  }, 60_000);
  const get = (url: string, token = api.tokens.admin) => api.client.get(url, token);

  it('serves its OpenAPI document without a token', async () => {
    const res = await api.client.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  });

  it('lists vehicles with HAL links and pages through them (next, prev, first)', async () => {
    const first = await get('/vehicles?limit=1');
    expect(first.headers['content-type']).toMatch(/^application\/hal\+json/);
    expect(first.body._embedded.vehicles.map((v: { vin: string }) => v.vin)).toEqual([VIN_2]);
    expect(first.body._links.prev).toBeUndefined();
    const second = await get(first.body._links.next.href);
    expect(second.body._embedded.vehicles.map((v: { vin: string }) => v.vin)).toEqual([VIN]);
    expect(second.body._links.next).toBeUndefined();
    const back = await get(second.body._links.prev.href);
    expect(back.body._embedded.vehicles[0].vin).toBe(VIN_2);
    expect(back.body._links.self.href).toBe('/vehicles?limit=1');
  });

  it('general information of a vehicle', async () => {
    const res = await get(`/vehicles/${VIN}`);
    expect(res.body).toMatchObject({ vin: VIN, brand: 'Roadlink', model: 'Demo', fuelType: 'petrol', modelYear: 2024, capabilities: ['cmd:door_lock'] });
    expect(res.body.lastCheckin).toBe(new Date(T0).toISOString());
    expect(res.body._links.status.href).toBe(`/vehicles/${VIN}/status`);
  });

  it('status: position as a GeoJSON Feature/Point [lon, lat], range, fuel, ignition, open doors', async () => {
    const res = await get(`/vehicles/${VIN}/status`);
    expect(res.body.position).toMatchObject({ type: 'Feature', geometry: { type: 'Point', coordinates: [2.35, 48.85, 35] }, properties: { source: 'GNSS' } });
    expect(res.body).toMatchObject({ autonomy: { rangeKm: 420 }, fuel: { levelPct: 55 }, ignition: 'ON', openDoors: ['Row1.DriverSide'], odometerKm: 12_345.6 });
    expect(res.body.time).toMatch(RFC3339);
  });

  it('trips newest first with GeoJSON departure/arrival, distance, consumption; one trip by id or trip id', async () => {
    const res = await get(`/vehicles/${VIN}/trips?limit=2`);
    const trips = res.body._embedded.trips;
    expect(trips.map((t: { tripId: string }) => t.tripId)).toEqual(['trip-6', 'trip-5']);
    expect(trips[0].departure).toEqual({ time: new Date(T0 + 7_200_000).toISOString(), position: { type: 'Point', coordinates: [2.35, 48.8] } });
    expect(trips[0].consumption).toEqual({ fuelL: 0.9, energyKwh: 0, fuelLPer100Km: 7.2 });
    expect(res.body._links.next).toBeDefined();
    const one = await get(trips[1]._links.self.href);
    expect(one.body.tripId).toBe('trip-5');
    const oldest = (await get(`/vehicles/${VIN}/trips?limit=3`)).body._embedded.trips[2];
    expect((await get(`/vehicles/${VIN}/trips/trip-4`)).body).toEqual(oldest); // by the vehicle's trip id
    const ranged = await get(`/vehicles/${VIN}/trips?from=${new Date(T0 + 1).toISOString()}&to=${new Date(T0 + 3_600_001).toISOString()}`);
    expect(ranged.body._embedded.trips.map((t: { tripId: string }) => t.tripId)).toEqual(['trip-5']);
  });

  it('alerts, maintenance and collisions (with position and pre/post windows)', async () => {
    const alerts = await get(`/vehicles/${VIN}/alerts`);
    expect(alerts.body.count).toBe(3);
    expect(alerts.body._embedded.events[0]).toMatchObject({ kind: 'alert', detail: { code: 'tyre_pressure' } });
    const maintenance = await get(`/vehicles/${VIN}/maintenance`);
    expect(maintenance.body._embedded.events[0].detail).toMatchObject({ daysToService: 12 });
    const collisions = await get(`/vehicles/${VIN}/collisions`);
    const [collision] = collisions.body._embedded.events;
    expect(collision.position).toEqual({ type: 'Point', coordinates: [2.34, 48.86] });
    expect(collision.detail.preWindow.samples[0].value).toBe(40);
    expect(collision.detail.postWindow.samples[0].value).toBe(0);
  });

  it('telemetry: the signals, samples of one signal in a range with a next link, the track as GeoJSON', async () => {
    const signals = await get(`/vehicles/${VIN}/telemetry`);
    expect(signals.body.signals.map((s: { name: string }) => s.name)).toContain('Vehicle.Speed');
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 60_000).toISOString();
    const page = await get(`/vehicles/${VIN}/telemetry/samples?signal=Vehicle.Speed&from=${from}&to=${to}&limit=20`);
    expect(page.body).toMatchObject({ signal: 'Vehicle.Speed', unit: 'km/h', count: 20 });
    expect(page.body.samples[0]).toEqual({ time: from, value: 0.01 });
    const rest = await get(page.body._links.next.href);
    expect(rest.body.samples[0].time).toBe(new Date(T0 + 2000).toISOString());
    const track = await get(`/vehicles/${VIN}/telemetry/track?from=${from}&to=${to}`);
    expect(track.body.type).toBe('FeatureCollection');
    const line = track.body.features[0];
    expect(line.geometry.type).toBe('LineString');
    expect(line.geometry.coordinates).toHaveLength(50);
    expect(line.geometry.coordinates[0][0]).toBeCloseTo(2.3000001, 6); // [lon, lat]
    expect(line.properties.times[0]).toBe(from);
  });

  it('bad input: problem documents naming the parameter', async () => {
    expectProblemNaming(await get(`/vehicles/${VIN}/trips?from=yesterday`), 400, 'from');
    expectProblemNaming(await get(`/vehicles/${VIN}/trips?from=2026-01-15 08:00:00`), 400, 'from');
    expectProblemNaming(await get(`/vehicles/${VIN}/trips?from=2026-01-15T09:00:00Z&to=2026-01-15T08:00:00Z`), 400, 'to');
    expectProblemNaming(await get('/vehicles?limit=101'), 400, 'limit');
    expectProblemNaming(await get('/vehicles?cursor=garbage'), 400, 'cursor');
    expectProblemNaming(await get('/vehicles/not-a-vin'), 400, 'vin');
    expectProblemNaming(await get(`/vehicles/${VIN}/telemetry/samples`), 400, 'signal');
    expectProblemNaming(await get(`/vehicles/${VIN}/telemetry/samples?signal=Nope`), 404, 'signal');
    const unknown = await get('/vehicles/VF3ZZZZZZZZZZZZZZ');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('VF3ZZZZZZZZZZZZZZ');
  });

  it('monitors: read, change the callback or secret (remote scope), scoped by vehicle; creating one needs a broker (503 here)', async () => {
    await api.store.createMonitor({ id: 'mon-1', vin: VIN, kind: 'geofence-circle', shape: { center: [2.35, 48.85], radiusM: 500 }, callbackUrl: 'https://hooks.test/a', secret: 's'.repeat(16), createdMs: T0 });
    await api.store.createMonitor({ id: 'mon-2', vin: VIN_2, kind: 'geofence-polygon', shape: { ring: [[2, 48], [3, 48], [3, 49], [2, 48]] }, callbackUrl: 'https://hooks.test/b', secret: 's'.repeat(16), createdMs: T0 });
    const one = await get('/monitors/mon-1');
    expect(one.body).toMatchObject({ geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 500, state: 'pending' });
    expect(one.body.secret).toBeUndefined();
    expect((await get('/monitors/mon-2')).body.geometry).toEqual({ type: 'Polygon', coordinates: [[[2, 48], [3, 48], [3, 49], [2, 48]]] });
    const patched = await api.client.call('PATCH', '/monitors/mon-1', { token: api.tokens.admin, body: { callbackUrl: 'https://hooks.test/new' } });
    expect(patched.body.callbackUrl).toBe('https://hooks.test/new');
    expectProblemNaming(await api.client.call('PATCH', '/monitors/mon-1', { token: api.tokens.admin, body: {} }), 400, '/');
    expectProblemNaming(await api.client.call('PATCH', '/monitors/mon-1', { token: api.tokens.admin, body: { secret: 'short' } }), 400, '/secret');
    expect((await api.client.call('PATCH', '/monitors/mon-1', { token: api.tokens.reader, body: { secret: 'x'.repeat(20) } })).status).toBe(403);
    expect((await get('/monitors/mon-2', api.tokens.scoped)).status).toBe(403);
    expect((await get('/monitors', api.tokens.scoped)).body._embedded.monitors.map((m: { id: string }) => m.id)).toEqual(['mon-1']);
    expect((await get('/monitors/mon-none')).status).toBe(404);
    const create = await api.client.call('POST', '/monitors', { token: api.tokens.admin, body: { vin: VIN, geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 50, callbackUrl: 'https://hooks.test/c' } });
    expect(create.status).toBe(503);
    expect((await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: { action: 'door_lock' } })).status).toBe(503);
  });

  it('401 without or with a bad token, 403 outside the key\'s vehicles', async () => {
    const none = await api.client.get('/vehicles');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await api.client.get('/vehicles', 'rlk_not-a-key')).status).toBe(401);
    expect((await api.client.call('GET', '/vehicles', { headers: { authorization: 'Basic dXNlcjpwdw==' } })).status).toBe(401);
    expect((await get(`/vehicles/${VIN_2}`, api.tokens.scoped)).status).toBe(403);
    expect((await get(`/vehicles/${VIN_2}/status`, api.tokens.scoped)).status).toBe(403);
    const visible = await get('/vehicles', api.tokens.scoped);
    expect(visible.body._embedded.vehicles.map((v: { vin: string }) => v.vin)).toEqual([VIN]);
    expect((await get(`/vehicles/${VIN}`, api.tokens.scoped)).status).toBe(200);
  });
});
