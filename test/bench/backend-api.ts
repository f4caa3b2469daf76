/**
 * Web API latency over a 1,000-vehicle synthetic fleet in PostgreSQL (real server): each vehicle's
 * checkin, status and one day of Vehicle.Speed (one sample every 30 s) written through the store's
 * applyUploads; then GET /vehicles/{vin}/status and a one-day GET …/telemetry/samples over real HTTP
 * (keep-alive, one request at a time, random vehicles), p50/p99/max of the client-side latency.
 * `npm run bench -- backend-api`.
 */
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiKey } from '../../backend/api/auth.js';
import { createApiServer } from '../../backend/api/server.js';
import { openPostgresStore } from '../../backend/db/open-store.js';
import type { CheckinUpload, SamplesUpload, StatusUpload } from '../../backend/db/uploads.js';
import { Priority } from '../../proto/gen/roadlink.js';
import { decodeSampleChunk, SampleChunkEncoder } from '../../wire/sample-chunk.js';
import { Postgres } from '../helpers/postgres.js';

const VEHICLES = 1000;
const SAMPLE_EVERY_MS = 30_000;
const DAY_MS = 86_400_000;
const DAY0 = Date.UTC(2026, 0, 15);
const STATUS_REQUESTS = 3000;
const TELEMETRY_REQUESTS = 300;
const SIGNALS = [
  { id: 1, name: 'Vehicle.Speed', unit: 'km/h', scale: 0.01, offset: 0 },
  { id: 2, name: 'Vehicle.Powertrain.FuelSystem.RelativeLevel', unit: '%', scale: 0.1, offset: 0 },
];
const encoder = new SampleChunkEncoder();
const vinOf = (v: number) => `APXBENCH${String(v).padStart(9, '0')}`;

function fleetUploads(v: number): [CheckinUpload, SamplesUpload, StatusUpload] {
  const vin = vinOf(v);
  const n = DAY_MS / SAMPLE_EVERY_MS;
  const signal = new Uint32Array(n).fill(1);
  const time = new Float64Array(n);
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    time[i] = DAY0 + i * SAMPLE_EVERY_MS;
    raw[i] = 5000 + ((i * 37 + v) % 4000);
  }
  const { columns } = decodeSampleChunk(encoder.encodeArrivals({ firstSeq: 1, priority: Priority.PRIORITY_NORMAL, rule: 'bench', signalTable: 7 }, n, signal, time, raw));
  const at = DAY0 + DAY_MS;
  const position = { lat: 48.8 + v / 10_000, lon: 2.3, altM: 0, headingDeg: 0, speedKmh: 0, timeMs: at, source: 'GNSS' };
  return [
    { kind: 'checkin', vin, brand: 'Bench', model: 'Fleet', fuelType: 'petrol', modelYear: 2024, agentVersion: '0.1.0', configVersion: '', rulesVersion: 0, capabilities: [], bootId: 'b', timeMs: DAY0, signalTable: 7, signals: SIGNALS },
    { kind: 'samples', vin, epoch: '', stream: 'data', firstSeq: 1, signalTable: 7, rule: 'bench', columns },
    { kind: 'status', vin, timeMs: at, position, speedKmh: 0, fuelLevelPct: 50, batterySocPct: 0, rangeKm: 400, odometerKm: 1000 + v, ignition: 'OFF', doors: [], locked: true, seq: 0 },
  ];
}

function get(port: number, agent: Agent, path: string, token: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function measure(count: number, path: (i: number) => string, port: number, agent: Agent, token: string): Promise<{ sorted: number[]; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const started = process.hrtime.bigint();
    const res = await get(port, agent, path(i), token);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (res.status !== 200) throw new Error(`${path(i)} answered ${res.status}`);
    bytes += res.bytes;
  }
  return { sorted: times.sort((a, b) => a - b), bytes: bytes / count };
}

const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const figures = (sorted: number[]) => `p50 ${at(sorted, 0.5).toFixed(2)} ms, p99 ${at(sorted, 0.99).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms`;

export async function run(): Promise<void> {
  const postgres = await Postgres.start();
  const store = await openPostgresStore(await postgres.createDatabase('api_bench'));
  try {
    const filled = Date.now();
    for (let v = 0; v < VEHICLES; v += 50) {
      const uploads = [];
      for (let k = v; k < Math.min(VEHICLES, v + 50); k++) uploads.push(...fleetUploads(k));
      await store.applyUploads(uploads.filter((u) => u.kind === 'checkin'));
      await store.applyUploads(uploads.filter((u) => u.kind !== 'checkin'));
    }
    const figuresStored = await store.storageFigures();
    console.log(`fleet: ${VEHICLES} vehicles, ${figuresStored.samples} samples (one day of Vehicle.Speed each, every ${SAMPLE_EVERY_MS / 1000} s) written in ${((Date.now() - filled) / 1000).toFixed(1)} s`);

    const { token } = await createApiKey(store, { name: 'bench', scopes: ['read'] });
    const app = createApiServer({ store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let seed = 12345;
    const randomVin = () => vinOf((seed = (seed * 1103515245 + 12345) % 2147483648) % VEHICLES);
    try {
      await measure(200, () => `/vehicles/${randomVin()}/status`, port, agent, token); // warm-up
      const status = await measure(STATUS_REQUESTS, () => `/vehicles/${randomVin()}/status`, port, agent, token);
      console.log(`GET /vehicles/{vin}/status (${STATUS_REQUESTS} requests, random vehicles, ${Math.round(status.bytes)} bytes): ${figures(status.sorted)}`);
      const from = new Date(DAY0).toISOString();
      const to = new Date(DAY0 + DAY_MS).toISOString();
      const telemetry = await measure(TELEMETRY_REQUESTS, () => `/vehicles/${randomVin()}/telemetry/samples?signal=Vehicle.Speed&from=${from}&to=${to}`, port, agent, token);
      console.log(
        `GET /vehicles/{vin}/telemetry/samples, one day (${DAY_MS / SAMPLE_EVERY_MS} samples, ${Math.round(telemetry.bytes / 1024)} KiB of JSON; ${TELEMETRY_REQUESTS} requests): ${figures(telemetry.sorted)}`,
      );
    } finally {
      agent.destroy();
      await app.close();
    }
  } finally {
    await store.close();
    await postgres.dispose();
  }
}
