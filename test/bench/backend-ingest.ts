/**
 * Backend ingest into PostgreSQL (real server, real mosquitto): samples per second through one
 * worker process and through two sharing the fleet, database bytes per stored sample, and the time
 * to read one signal of one vehicle over one day from a synthetic fleet.
 * `npm run bench -- backend-ingest`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { openPostgresStore } from '../../backend/db/open-store.js';
import type { SqlBackendStore } from '../../backend/db/sql-backend-store.js';
import type { CheckinUpload, SamplesUpload } from '../../backend/db/uploads.js';
import { decodeSampleChunk, SampleChunkEncoder } from '../../wire/sample-chunk.js';
import { Checkin, Priority } from '../../proto/gen/roadlink.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Postgres } from '../helpers/postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, '..', '..', 'backend', 'ingest', 'ingest-main.js');
const SIGNALS = 20;
const HZ = 10;
const BATCH_S = 30;
const DAY0 = Date.UTC(2026, 0, 15);
const signals = Array.from({ length: SIGNALS }, (_, i) => ({ id: i + 1, name: `Vehicle.Bench.Signal${i + 1}`, unit: 'u', scale: 0.01, offset: 0 }));
const encoder = new SampleChunkEncoder();

/** One upload: `SIGNALS` signals at `hz` for `seconds` from `startMs`, a random walk each; sequence numbers from firstSeq. */
function batch(firstSeq: number, startMs: number, hz: number, seconds: number, seed: number): Uint8Array {
  const per = hz * seconds;
  const n = per * SIGNALS;
  const signal = new Uint32Array(n);
  const time = new Float64Array(n);
  const raw = new Float64Array(n);
  let k = 0;
  let x = seed;
  for (let s = 0; s < SIGNALS; s++) {
    let v = 5000;
    for (let i = 0; i < per; i++, k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      v += (x % 7) - 3;
      signal[k] = s + 1;
      time[k] = startMs + Math.round((i * 1000) / hz);
      raw[k] = v;
    }
  }
  return encoder.encodeArrivals({ firstSeq, priority: Priority.PRIORITY_NORMAL, rule: 'bench' }, n, signal, time, raw);
}

const vinOf = (v: number) => `BENCH${String(v).padStart(12, '0')}`;

async function ingestRate(broker: Mosquitto, postgres: Postgres, workers: number, vehicles: number, messagesPerVehicle: number): Promise<{ rate: number; samples: number; bytesPerSample: number }> {
  const url = await postgres.createDatabase(`bench_ingest_${workers}_${Date.now()}`);
  const store = await openPostgresStore(url);
  const children: ChildProcess[] = [];
  for (let w = 0; w < workers; w++) {
    const child = spawn(process.execPath, [WORKER, '--broker', broker.url, '--db', url, '--client-id', `bench-${workers}-${w}`, '--group', `bench${workers}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => ((err += d.toString()), err.includes('ingest: ready') && resolve()));
      child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
    });
  }
  const payloads: [string, Uint8Array][] = [];
  for (let v = 0; v < vehicles; v++) {
    for (let m = 0; m < messagesPerVehicle; m++) {
      payloads.push([`roadlink/v1/${vinOf(v)}/data`, batch(1 + m * SIGNALS * HZ * BATCH_S, DAY0 + m * BATCH_S * 1000, HZ, BATCH_S, v * 1000 + m)]);
    }
  }
  const total = payloads.length * SIGNALS * HZ * BATCH_S;
  const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `bench-fleet-${workers}` });
  for (let v = 0; v < vehicles; v++) {
    await publisher.publishAsync(`roadlink/v1/${vinOf(v)}/checkin`, Buffer.from(Checkin.encode({ vin: vinOf(v), signals, signalTable: 1 }).finish()), { qos: 1, retain: true });
  }
  await new Promise((r) => setTimeout(r, 500));
  const start = performance.now();
  for (let i = 0; i < payloads.length; i += 50) await Promise.all(payloads.slice(i, i + 50).map(([t, p]) => publisher.publishAsync(t, Buffer.from(p), { qos: 1 })));
  let stored = 0;
  while (stored < total) {
    await new Promise((r) => setTimeout(r, 50));
    stored = (await store.storageFigures()).samples;
  }
  const seconds = (performance.now() - start) / 1000;
  const figures = await store.storageFigures();
  await publisher.endAsync();
  for (const c of children) c.kill('SIGTERM');
  await store.close();
  return { rate: total / seconds, samples: total, bytesPerSample: figures.sampleBytes / figures.samples };
}

async function queryLatency(postgres: Postgres): Promise<{ dayMs: number; hourMs: number; samples: number; fleetSamples: number }> {
  const url = await postgres.createDatabase(`bench_query_${Date.now()}`);
  const store: SqlBackendStore = await openPostgresStore(url);
  const vehicles = 10;
  const hz = 1;
  let fleetSamples = 0;
  for (let v = 0; v < vehicles; v++) {
    const checkin: CheckinUpload = {
      kind: 'checkin', vin: vinOf(v), brand: 'B', model: 'M', fuelType: '', modelYear: 0, agentVersion: '', configVersion: '', rulesVersion: 0,
      capabilities: [], bootId: '', timeMs: DAY0, signalTable: 1, signals,
    };
    await store.applyUploads([checkin]);
    const uploads: SamplesUpload[] = [];
    for (let m = 0; m < 86_400 / BATCH_S; m++) {
      const bytes = batch(1 + m * SIGNALS * hz * BATCH_S, DAY0 + m * BATCH_S * 1000, hz, BATCH_S, v + m);
      uploads.push({ kind: 'samples', vin: vinOf(v), epoch: '', stream: 'data', firstSeq: 1 + m * SIGNALS * hz * BATCH_S, signalTable: 1, rule: '', columns: decodeSampleChunk(bytes).columns });
      fleetSamples += SIGNALS * hz * BATCH_S;
    }
    for (let i = 0; i < uploads.length; i += 100) await store.applyUploads(uploads.slice(i, i + 100));
  }
  const time = async (from: number, to: number) => {
    const runs: number[] = [];
    let n = 0;
    for (let r = 0; r < 15; r++) {
      const t = performance.now();
      n = (await store.samples(vinOf(3), 'Vehicle.Bench.Signal7', from, to))!.timeMs.length;
      runs.push(performance.now() - t);
    }
    runs.sort((a, b) => a - b);
    return { ms: runs[Math.floor(runs.length / 2)], n };
  };
  const day = await time(DAY0, DAY0 + 86_400_000);
  const hour = await time(DAY0 + 12 * 3_600_000, DAY0 + 13 * 3_600_000);
  await store.close();
  return { dayMs: day.ms, hourMs: hour.ms, samples: day.n, fleetSamples };
}

export async function run(): Promise<void> {
  const [broker, postgres] = await Promise.all([Mosquitto.start(), Postgres.start()]);
  try {
    const perMessage = SIGNALS * HZ * BATCH_S;
    console.log(`synthetic uploads: ${SIGNALS} signals at ${HZ} Hz, ${BATCH_S} s per message (${perMessage} samples)`);
    const one = await ingestRate(broker, postgres, 1, 20, 20);
    console.log(`1 worker:  ${Math.round(one.rate).toLocaleString('en')} samples/s (${one.samples.toLocaleString('en')} samples, 20 vehicles)`);
    const two = await ingestRate(broker, postgres, 2, 20, 20);
    console.log(`2 workers: ${Math.round(two.rate).toLocaleString('en')} samples/s`);
    console.log(`database bytes per stored sample (pg_total_relation_size(sample_chunks) / samples): ${one.bytesPerSample.toFixed(2)}`);
    const q = await queryLatency(postgres);
    console.log(`fleet of 10 vehicles x 1 day x ${SIGNALS} signals at 1 Hz (${q.fleetSamples.toLocaleString('en')} samples):`);
    console.log(`  one signal of one vehicle over one day (${q.samples.toLocaleString('en')} samples): ${q.dayMs.toFixed(1)} ms median; over one hour: ${q.hourMs.toFixed(1)} ms`);
  } finally {
    await broker.dispose();
    await postgres.dispose();
  }
}
