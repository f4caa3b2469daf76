/**
 * Remote actions and geofence monitors end to end over a real mosquitto and a real SQLite store:
 * API → signed command on cmd/req → the agent's Uplink and CommandProcessor → simulated ECU →
 * cmd/res → the ingest worker → store → API state SUCCEEDED. A monitor → signed rules update → the
 * agent's RulesUpdater → rules/ack → ingest → monitor active; the vehicle's geofence transition →
 * ingest → webhook to a real HTTP receiver on 127.0.0.1 (first attempt refused, retried, HMAC
 * verified); deleting the monitor pushes its removal.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event, Priority, RulesAck } from '../../../proto/gen/roadlink.js';
import { RulesUpdater } from '../../../agent/commands/rules-update.js';
import { vehicleSignalNames } from '../../../agent/config/config.js';
import type { MonitorsConfig } from '../../../agent/config/sections/monitors.js';
import { rulesEngineFor } from '../../../agent/rules/engine-from-config.js';
import { Uplink } from '../../../agent/uplink/uplink.js';
import type { SqlBackendStore } from '../../../backend/db/sql-backend-store.js';
import { IngestWorker } from '../../../backend/ingest/ingest-worker.js';
import { MonitorRules } from '../../../backend/remote/monitor-rules.js';
import { RemoteControl } from '../../../backend/remote/remote-control.js';
import { MqttVehiclePublisher } from '../../../backend/remote/vehicle-publisher.js';
import { SIGNATURE_HEADER, WebhookDispatcher } from '../../../backend/webhooks/webhook-dispatcher.js';
import { Mosquitto } from '../../helpers/mosquitto.js';
import { RuleOutputCollector } from '../../helpers/rule-output-collector.js';
import { waitFor } from '../../uplink/fixtures.js';
import { Harness, newKey, VIN } from '../../commands/fixtures.js';
import { eventually, expectProblemNaming, startApi, StoreFactory, type ApiSetup } from './api-fixtures.js';

const factory = new StoreFactory();
const backendKey = newKey('api-backend');
let broker: Mosquitto;
let store: SqlBackendStore;
let ingest: IngestWorker;
let publisher: MqttVehiclePublisher;
let harness: Harness;
let uplink: Uplink;
let api: ApiSetup;
let monitorRules: MonitorRules;
const installed: MonitorsConfig[] = [];
const acks: RulesAck[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
  store = (await factory.open('sqlite')) as SqlBackendStore;
  ingest = new IngestWorker({ broker: { url: broker.url }, store, clientId: 'api-e2e-ingest', connections: 1, log: () => {} });
  await ingest.start();

  // The vehicle: the agent's uplink, command processor (simulated body ECU) and rules updater.
  let started: Uplink | undefined;
  harness = Harness.create({ keys: [{ key: backendKey }] }, { publish: (bytes) => started!.publishCommandResponse(bytes) });
  const config = harness.vehicle.config;
  const updater = new RulesUpdater({
    vin: VIN, keys: config.commands.keys, engine: rulesEngineFor(config, new RuleOutputCollector()), monitors: config.monitors,
    setMonitors: (m) => installed.push(m), signalNames: vehicleSignalNames(config), store: harness.store,
    publishAck: (bytes) => (acks.push(RulesAck.decode(bytes)), started!.publishRulesAck(bytes)), log: () => {},
  });
  uplink = started = new Uplink({ vin: VIN, broker: { url: broker.url }, store: harness.store, checkin: () => ({}), log: () => {} });
  uplink.onCommand((bytes) => harness.processor.handle(bytes).then(() => undefined));
  uplink.onRulesUpdate((bytes) => updater.handle(bytes).then(() => undefined));
  uplink.start();
  await waitFor(() => uplink.stats().connected, 'uplink connected');
  harness.vehicle.park();

  // What the vehicle's checkin told the backend (its catalog as capabilities).
  await store.applyUploads([{
    kind: 'checkin', vin: VIN, brand: 'Roadlink', model: 'Demo', fuelType: 'electric', modelYear: 2024, agentVersion: '0.1.0', configVersion: '',
    rulesVersion: 0, capabilities: harness.vehicle.catalog.names.map((n) => `cmd:${n}`), bootId: 'b', timeMs: Date.now(), signalTable: 1, signals: [],
  }]);
  publisher = new MqttVehiclePublisher({ url: broker.url });
  monitorRules = new MonitorRules(store, publisher, backendKey);
  api = await startApi(store, { remote: new RemoteControl(store, publisher, backendKey), monitorRules });
}, 60_000);

afterAll(async () => {
  await uplink?.stop();
  harness?.dispose();
  await ingest?.stop();
  await publisher?.close();
  await factory.dispose();
  await broker?.stop();
});

describe('remote actions through the broker to a simulated vehicle', () => {
  it('POST /vehicles/{vin}/remote door_lock → 202 PENDING → ... → SUCCEEDED, the ECU got the lock request', async () => {
    const created = await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: { action: 'door_lock' } });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ vin: VIN, action: 'door_lock', state: 'PENDING' });
    expect(created.headers.location).toBe(created.body._links.self.href);
    const states = new Set<string>();
    const final = await eventually(async () => {
      const res = await api.client.get(created.body._links.self.href, api.tokens.reader);
      states.add(res.body.state);
      return res.body.state === 'SUCCEEDED' || res.body.state === 'FAILED' || res.body.state === 'REJECTED' ? res.body : undefined;
    }, 'the action to finish');
    expect(final.state).toBe('SUCCEEDED');
    expect(final.completed).not.toBeNull();
    expect(harness.vehicle.ecu.sentRequests().at(-1)).toMatchObject({ message: 'TCU_BODY_REQUEST', values: { LockRequest: 2 } });
    const list = await api.client.get(`/vehicles/${VIN}/remote`, api.tokens.admin);
    expect(list.body._embedded.actions[0].id).toBe(final.id);
  });

  it('args travel to the vehicle; an unknown action is a 400 naming /action; no remote scope is 403', async () => {
    const res = await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: { action: 'preconditioning_on', args: { target_temp_c: 19.5 } } });
    expect(res.status).toBe(202);
    expect(res.body.args).toEqual({ target_temp_c: '19.5' });
    await eventually(async () => ((await api.client.get(res.body._links.self.href, api.tokens.admin)).body.state === 'SUCCEEDED' ? true : undefined), 'preconditioning');
    expect(harness.vehicle.ecu.sentRequests().at(-1)!.values.TargetTemperature).toBe(19.5);

    expectProblemNaming(await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: { action: 'eject_seat' } }), 400, '/action');
    expectProblemNaming(await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: { action: 'door_lock', colour: 'red' } }), 400, '/colour');
    expect((await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.reader, body: { action: 'door_lock' } })).status).toBe(403);
    expect((await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: 'not json', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await api.client.call('POST', `/vehicles/${VIN}/remote`, { token: api.tokens.admin, body: '{"action":' })).status).toBe(400);
  });
});

describe('geofence monitors: signed rules updates, acks, transitions delivered as signed webhooks', () => {
  let receiver: Server;
  let callbackUrl = '';
  const hits: { body: string; signature: string; answered: number }[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const answered = hits.length === 0 ? 503 : 200; // the first attempt fails
        hits.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(request.headers[SIGNATURE_HEADER]), answered });
        response.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('creates a circle monitor: pending, then active once the vehicle accepts the rules update', async () => {
    const secret = 'a-shared-secret-of-length';
    const created = await api.client.call('POST', '/monitors', {
      token: api.tokens.admin,
      body: { vin: VIN, geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 300, callbackUrl, secret },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'pending', kind: 'geofence-circle', secret, radiusM: 300 });
    const id: string = created.body.id;
    const active = await eventually(async () => {
      await monitorRules.poll();
      const res = await api.client.get(`/monitors/${id}`, api.tokens.admin);
      return res.body.state === 'pending' ? undefined : res.body;
    }, 'the monitor to leave pending');
    expect(active.state).toBe('active');
    expect(active.secret).toBeUndefined();
    expect(installed.at(-1)!.geofences).toEqual([expect.objectContaining({ name: id, shape: 'circle', center: { lat: 48.85, lon: 2.35 }, radiusM: 300 })]);

    // The vehicle leaves the fence: its event reaches the callback, retried after a 503, signed.
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'vehicle-events' });
    const event = Event.encode({ seq: 1, timeMs: Date.now(), priority: Priority.PRIORITY_NORMAL, geofence: { monitorId: id, entered: false, position: { lat: 48.86, lon: 2.36 } } }).finish();
    await client.publishAsync(`roadlink/v1/${VIN}/events`, Buffer.from(event), { qos: 1, properties: { userProperties: { seq: '1' } } });
    await client.endAsync();
    const dispatcher = new WebhookDispatcher(store, { retryBaseMs: 100 });
    await eventually(async () => {
      await dispatcher.tick();
      return hits.some((h) => h.answered === 200) ? true : undefined;
    }, 'the webhook to be delivered');
    expect(hits.map((h) => h.answered)).toEqual([503, 200]);
    const [, delivered] = hits;
    expect(delivered.signature).toBe(`sha256=${createHmac('sha256', secret).update(delivered.body).digest('hex')}`);
    expect(JSON.parse(delivered.body)).toMatchObject({ monitorId: id, vin: VIN, transition: 'left', position: { type: 'Point', coordinates: [2.36, 48.86] } });
    expect(hits[0].body).toBe(delivered.body);
    const transitions = await api.client.get(`/monitors/${id}/transitions`, api.tokens.admin);
    expect(transitions.body._embedded.events[0]).toMatchObject({ kind: 'geofence', monitorId: id });

    // Deleting it pushes the removal.
    expect((await api.client.call('DELETE', `/monitors/${id}`, { token: api.tokens.admin })).status).toBe(204);
    await waitFor(() => installed.at(-1)!.geofences.length === 0, 'the geofence removed at the vehicle');
    expect((await api.client.get(`/monitors/${id}`, api.tokens.admin)).status).toBe(404);
  });

  it('a polygon monitor becomes the vehicle\'s polygon geofence; bad shapes are 400s naming the field', async () => {
    const ring = [[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]];
    const created = await api.client.call('POST', '/monitors', { token: api.tokens.admin, body: { vin: VIN, geometry: { type: 'Polygon', coordinates: [ring] }, callbackUrl } });
    expect(created.status).toBe(201);
    expect(created.body.secret.length).toBeGreaterThanOrEqual(16);
    const settled = await eventually(async () => {
      await monitorRules.poll();
      const res = await api.client.get(`/monitors/${created.body.id}`, api.tokens.admin);
      return res.body.state === 'pending' ? undefined : res.body;
    }, 'the polygon monitor to settle');
    expect(settled.state).toBe('active');
    expect(installed.at(-1)!.geofences[0]).toMatchObject({ shape: 'polygon', points: [{ lat: 48.8, lon: 2.3 }, { lat: 48.8, lon: 2.4 }, { lat: 48.9, lon: 2.4 }] });

    const post = (body: unknown) => api.client.call('POST', '/monitors', { token: api.tokens.admin, body });
    expectProblemNaming(await post({ vin: VIN, geometry: { type: 'Point', coordinates: [48.85, 200] }, radiusM: 10, callbackUrl }), 400, '/geometry/coordinates');
    expectProblemNaming(await post({ vin: VIN, geometry: { type: 'Point', coordinates: [2.35, 48.85] }, callbackUrl }), 400, '/radiusM');
    expectProblemNaming(await post({ vin: VIN, geometry: { type: 'Polygon', coordinates: [ring.slice(0, 3)] }, callbackUrl }), 400, '/geometry/coordinates/0');
    expectProblemNaming(await post({ vin: VIN, geometry: { type: 'LineString', coordinates: [] }, callbackUrl }), 400, '/geometry/type');
    expectProblemNaming(await post({ vin: VIN, geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 10, callbackUrl: 'ftp://x' }), 400, '/callbackUrl');
    expectProblemNaming(await post({ vin: VIN, geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 10, callbackUrl, secret: 'short' }), 400, '/secret');
    expect((await api.client.call('POST', '/monitors', { token: api.tokens.reader, body: { vin: VIN } })).status).toBe(403);
    const listed = await api.client.get(`/monitors?vin=${VIN}`, api.tokens.reader);
    expect(listed.body._embedded.monitors.map((m: { id: string }) => m.id)).toContain(created.body.id);
  });

  it('a rules update the vehicle refuses leaves the monitor failed with the reason', async () => {
    // A second backend key unknown to the vehicle signs the update: refused (unknown key).
    const stranger = new MonitorRules(store, publisher, newKey('stranger'));
    const monitor = await store.createMonitor({ id: 'mon-stranger', vin: VIN, kind: 'geofence-circle', shape: { center: [2.35, 48.85], radiusM: 50 }, callbackUrl, secret: 'x'.repeat(16), createdMs: Date.now() });
    await stranger.install(monitor);
    const failed = await eventually(async () => {
      await stranger.poll();
      const res = await api.client.get('/monitors/mon-stranger', api.tokens.admin);
      return res.body.state === 'pending' ? undefined : res.body;
    }, 'the refused monitor');
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/key/);
    expect(acks.at(-1)!.accepted).toBe(false);
  });
});
