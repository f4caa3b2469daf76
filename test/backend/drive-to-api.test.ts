/**
 * The backend end to end, from a replayed drive to the REST answers: the agent replays the demo
 * drive to a real mosquitto; two ingest workers share it (MQTT 5 shared subscriptions) into a real
 * PostgreSQL; the Web API then answers from that database, every response checked against the
 * OpenAPI document: the vehicle, its status with a GeoJSON position, its trip, its collision with
 * the pre/post windows, and one signal's samples, as many as the vehicle sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../backend/db/open-store.js';
import type { SqlBackendStore } from '../../backend/db/sql-backend-store.js';
import { IngestWorker } from '../../backend/ingest/ingest-worker.js';
import { Receiver, type ReceiverSummary } from '../../backend/receiver.js';
import { runAgentCli } from '../../apps/cli/run.js';
import { demoFolder } from '../helpers/demo-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Postgres } from '../helpers/postgres.js';
import { waitFor } from '../uplink/fixtures.js';
import { startApi, type ApiSetup } from './api/api-fixtures.js';
import { textSink } from '../helpers/text-sink.js';

const quiet = () => undefined;

describe('a replayed drive through two ingest workers and PostgreSQL to the Web API', () => {
  let broker: Mosquitto;
  let postgres: Postgres;
  let store: SqlBackendStore;
  let workers: IngestWorker[] = [];
  let sent: ReceiverSummary;
  let vin: string;
  let api: ApiSetup;

  beforeAll(async () => {
    [broker, postgres] = await Promise.all([Mosquitto.start(), Postgres.start()]);
    store = await openPostgresStore(await postgres.createDatabase('drive_to_api'));
    workers = [1, 2].map((n) => new IngestWorker({ broker: { url: broker.url }, store, clientId: `drive-worker-${n}`, group: 'fleet', log: quiet, backoff: { initialMs: 50, maxMs: 500 } }));
    for (const w of workers) await w.start();
    // What the vehicle sent, counted by the reference receiver beside the workers.
    const receiver = new Receiver({ broker: { url: broker.url }, shared: false, writeLine: () => undefined, log: quiet });
    await receiver.start();
    const demo = demoFolder((yaml) => yaml.replace('speed: 30 ', 'speed: 0  '));
    const io = { stdout: textSink(), stderr: textSink() };
    expect(await runAgentCli(['--config', demo.config, '--broker', broker.url, '--exit-at-end', '--stats-interval', '0'], io), io.stderr.text).toBe(0);
    sent = await receiver.stop();
    vin = Object.keys(sent.vehicles)[0];
    const samplesSent = sent.vehicles[vin].data.received;
    const written = () => workers.reduce((n, w) => n + w.stats().samplesWritten, 0);
    await waitFor(() => written() >= samplesSent, 'every sample the vehicle sent in the database', 60_000);
    api = await startApi(store);
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await store?.close();
    await broker?.dispose();
    await postgres?.dispose();
  });

  it('both workers took part, nothing was malformed, every sample is stored once', async () => {
    for (const w of workers) {
      expect(w.stats().committedMessages).toBeGreaterThan(0);
      expect(w.stats().malformed).toEqual({});
    }
    expect((await store.storageFigures()).samples).toBe(sent.vehicles[vin].data.received);
  });

  it('answers with the vehicle, its status, trip, collision and telemetry', async () => {
    const get = (url: string) => api.client.get(url, api.tokens.reader);
    const vehicles = await get('/vehicles');
    expect(vehicles.body._embedded.vehicles.map((v: { vin: string }) => v.vin)).toEqual([vin]);

    const status = await get(`/vehicles/${vin}/status`);
    expect(status.status).toBe(200);
    expect(status.body.position).toMatchObject({ type: 'Feature', geometry: { type: 'Point' } });
    expect(status.body.ignition).toBe('OFF'); // the drive ends with the ignition off

    const trips = (await get(`/vehicles/${vin}/trips`)).body._embedded.trips;
    expect(trips.length).toBeGreaterThan(0);
    expect(trips[0].distanceKm).toBeGreaterThan(1);
    expect(trips[0].departure.position).toMatchObject({ type: 'Point' });
    expect(trips[0].arrival.position).toMatchObject({ type: 'Point' });

    const collisions = (await get(`/vehicles/${vin}/collisions`)).body._embedded.events;
    expect(collisions.length).toBeGreaterThan(0);
    expect(collisions[0].position).toMatchObject({ type: 'Point' });
    const windowSamples = collisions.reduce(
      (n: number, c: { detail: { preWindow?: { samples: unknown[] }; postWindow?: { samples: unknown[] } } }) => n + (c.detail.preWindow?.samples.length ?? 0) + (c.detail.postWindow?.samples.length ?? 0),
      0,
    );
    expect(windowSamples).toBeGreaterThan(0);

    const from = new Date(0).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    let speedSamples = 0;
    let url: string | undefined = `/vehicles/${vin}/telemetry/samples?signal=Vehicle.Speed&from=${from}&to=${to}&limit=100`;
    for (let pages = 0; url && pages < 1000; pages++) {
      const page = await get(url);
      speedSamples += page.body.count;
      url = page.body._links.next?.href;
    }
    const stored = (await store.samples(vin, 'Vehicle.Speed', 0, Date.now() + 86_400_000))!;
    expect(speedSamples).toBe(stored.timeMs.length);
    expect(speedSamples).toBeGreaterThan(100);
  });
});
