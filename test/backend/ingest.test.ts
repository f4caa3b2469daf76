/**
 * Ingest end to end: real mosquitto, real PostgreSQL, the project's agent and decoders. A real drive
 * ends as rows; two workers share the fleet; duplicates are stored once; garbage is counted and
 * acked; a database outage stops the acks and loses nothing; a worker killed with SIGKILL loses
 * nothing (its unacked messages come again when it restarts with the same client id).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { openPostgresStore } from '../../backend/db/open-store.js';
import type { SqlBackendStore } from '../../backend/db/sql-backend-store.js';
import { IngestWorker } from '../../backend/ingest/ingest-worker.js';
import { Receiver } from '../../backend/receiver.js';
import { runAgentCli } from '../../apps/cli/run.js';
import { SampleChunkEncoder } from '../../wire/sample-chunk.js';
import { Checkin, Priority } from '../../proto/gen/roadlink.js';
import { demoFolder } from '../helpers/demo-config.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Postgres } from '../helpers/postgres.js';
import { SIGNALS, VIN_A, VIN_B, waitFor } from '../uplink/fixtures.js';
import { textSink } from '../helpers/text-sink.js';

const repo = resolve(import.meta.dirname, '../..');
const quiet = () => undefined;
const T0 = Date.UTC(2026, 0, 15, 8);

/** `count` Vehicle.Speed samples numbered from `firstSeq`, one every 100 ms. */
function speedBatch(firstSeq: number, count: number): Buffer {
  const signal = new Uint32Array(count).fill(1);
  const time = Float64Array.from({ length: count }, (_, i) => T0 + (firstSeq - 1 + i) * 100);
  const raw = Float64Array.from({ length: count }, (_, i) => firstSeq + i);
  return Buffer.from(new SampleChunkEncoder().encodeArrivals({ firstSeq, priority: Priority.PRIORITY_NORMAL, rule: 'base' }, count, signal, time, raw));
}

describe('ingest workers', () => {
  let broker: Mosquitto;
  let postgres: Postgres;
  let counter = 0;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  beforeAll(async () => {
    [broker, postgres] = await Promise.all([Mosquitto.start(), Postgres.start()]);
  }, 60_000);
  afterAll(async () => {
    await broker?.dispose();
    await postgres?.dispose();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function database(): Promise<{ url: string; store: SqlBackendStore }> {
    const url = await postgres.createDatabase(`ingest_${++counter}`);
    const store = await openPostgresStore(url);
    cleanups.push(() => store.close());
    return { url, store };
  }

  async function worker(store: SqlBackendStore, clientId: string, group: string, log = quiet as (l: string, m: string) => void) {
    const w = new IngestWorker({ broker: { url: broker.url }, store, clientId, group, log, backoff: { initialMs: 50, maxMs: 500 } });
    await w.start();
    cleanups.push(() => w.stop());
    return w;
  }

  async function vehicle(id: string): Promise<MqttClient> {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: id });
    cleanups.push(() => client.endAsync());
    await client.publishAsync(`roadlink/v1/${VIN_A}/checkin`, Buffer.from(Checkin.encode({ vin: VIN_A, signals: SIGNALS, signalTable: 77 }).finish()), { qos: 1, retain: true });
    return client;
  }

  const storedSamples = async (store: SqlBackendStore) => (await store.storageFigures()).samples;

  it('stores a real drive uploaded by the agent: vehicle, status, trip, collisions with windows, every sample', async () => {
    const { store } = await database();
    const warnings: string[] = [];
    const w = await worker(store, 'drive-worker', 'drive', (_l, m) => warnings.push(m));
    const receiver = new Receiver({ broker: { url: broker.url }, shared: false, writeLine: () => undefined, log: quiet });
    await receiver.start();
    const demo = demoFolder((yaml) => yaml.replace('speed: 30 ', 'speed: 0  '));
    const io = { stdout: textSink(), stderr: textSink() };
    expect(await runAgentCli(['--config', demo.config, '--broker', broker.url, '--exit-at-end', '--stats-interval', '0'], io), io.stderr.text).toBe(0);
    const seen = await receiver.stop();
    const vin = Object.keys(seen.vehicles)[0];
    const sent = seen.vehicles[vin].data;
    await waitFor(() => w.stats().samplesWritten >= sent.received, 'the drive in the database', 30_000)
      .catch((err) => { throw new Error(`${(err as Error).message}: ${JSON.stringify([w.stats(), seen.messages, sent])}`); });

    expect(await storedSamples(store)).toBe(sent.received);
    const info = (await store.vehicle(vin))!;
    expect(info.model).not.toBe('');
    expect((await store.signalTable(vin)).length).toBeGreaterThan(5);
    expect(await store.status(vin)).toBeDefined();
    const trips = await store.trips(vin);
    expect(trips.items.length).toBeGreaterThan(0);
    expect(trips.items[0].distanceKm).toBeGreaterThan(0);
    const collisions = (await store.events(vin, { kinds: ['collision'] })).items;
    expect(collisions).toHaveLength(2);
    const windowSamples = (c: (typeof collisions)[number], key: string) => ((c.detail[key] as { samples?: unknown[] } | undefined)?.samples ?? []).length;
    expect(collisions.some((c) => windowSamples(c, 'preWindow') + windowSamples(c, 'postWindow') > 0), JSON.stringify(collisions.map((c) => Object.keys(c.detail)))).toBe(true);
    const speed = (await store.samples(vin, 'Vehicle.Speed', 0, Number.MAX_SAFE_INTEGER))!;
    expect(speed.timeMs.length).toBeGreaterThan(100);
    expect(Math.max(...speed.value)).toBeGreaterThan(50);
    expect((await store.positions(vin, 0, Number.MAX_SAFE_INTEGER)).length).toBeGreaterThan(10);
    expect(w.stats().malformed, warnings.join('\n')).toEqual({});
  }, 90_000);

  it('shares the fleet between two workers, stores duplicates once, and counts garbage without stopping', async () => {
    const { store } = await database();
    const one = await worker(store, 'share-1', 'share');
    const two = await worker(store, 'share-2', 'share');
    const car = await vehicle('share-car');
    for (let i = 0; i < 100; i++) {
      const batch = speedBatch(1 + i * 50, 50);
      await car.publishAsync(`roadlink/v1/${VIN_A}/data`, batch, { qos: 1 });
      if (i % 3 === 0) await car.publishAsync(`roadlink/v1/${VIN_A}/data`, batch, { qos: 1 }); // a re-send after a lost PUBACK
    }
    const garbage: [string, Buffer, mqtt.IClientPublishOptions?][] = [
      [`roadlink/v1/${VIN_A}/data`, Buffer.from('definitely not protobuf')],
      [`roadlink/v1/${VIN_A}/events`, Buffer.from([0x08, 0x01])],
      [`roadlink/v1/${VIN_A}/status`, Buffer.from('zz'), { properties: { userProperties: { 'content-encoding': 'deflate-raw' } } }],
      [`roadlink/v1/${VIN_B}/checkin`, Buffer.from(Checkin.encode({ vin: VIN_A }).finish())],
    ];
    for (const [topic, payload, options] of garbage) await car.publishAsync(topic, payload, { qos: 1, ...options });
    await car.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(5001, 50), { qos: 1 });
    const malformed = () => [one, two].flatMap((w) => Object.values(w.stats().malformed)).reduce((a, b) => a + (b ?? 0), 0);
    const duplicates = () => one.stats().duplicateSeqs + two.stats().duplicateSeqs;
    // With two workers a re-send may be taken after the last new batch: wait for every message, not just the samples.
    await waitFor(() => one.stats().samplesWritten + two.stats().samplesWritten === 5050 && malformed() === 5 && duplicates() >= 34 * 50, 'all samples, duplicates and garbage counted', 30_000)
      .catch((err) => { throw new Error(`${(err as Error).message}: ${JSON.stringify([one.stats(), two.stats()])}`); });

    expect(one.stats().committedMessages).toBeGreaterThan(0);
    expect(two.stats().committedMessages).toBeGreaterThan(0);
    expect(duplicates()).toBe(34 * 50);
    const reasons = { ...one.stats().malformed };
    for (const [k, v] of Object.entries(two.stats().malformed)) reasons[k as keyof typeof reasons] = (reasons[k as keyof typeof reasons] ?? 0) + (v ?? 0);
    // The bad checkin reaches both workers: checkins are not shared.
    expect(reasons).toEqual({ 'bad-message': 2, 'bad-encoding': 1, 'vin-mismatch': 2 });
    expect(await storedSamples(store)).toBe(5050);
    const series = (await store.samples(VIN_A, 'Vehicle.Speed', T0, T0 + 86_400_000))!;
    expect(Array.from(series.value.slice(0, 3))).toEqual([0.01, 0.02, 0.03]);
    expect(series.timeMs.length).toBe(5050);
  }, 60_000);

  it('stops acking while the database is down and stores everything once it is back', async () => {
    const { store } = await database();
    const warnings: string[] = [];
    const w = await worker(store, 'outage-worker', 'outage', (_l, m) => warnings.push(m));
    const car = await vehicle('outage-car');
    for (let i = 0; i < 20; i++) await car.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(1 + i * 50, 50), { qos: 1 });
    await waitFor(() => w.stats().samplesWritten === 1000, 'the first 20 messages', 30_000);
    await postgres.stop();
    for (let i = 20; i < 40; i++) await car.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(1 + i * 50, 50), { qos: 1 });
    await waitFor(() => w.stats().databaseRetries >= 3, 'retries during the outage', 30_000);
    expect(w.stats().samplesWritten).toBe(1000);
    expect(warnings.some((m) => /database unavailable/.test(m))).toBe(true);
    await postgres.restart();
    await waitFor(() => w.stats().samplesWritten === 2000, 'the messages held during the outage', 30_000);
    expect(await storedSamples(store)).toBe(2000);
    expect(warnings.some((m) => /database back/.test(m))).toBe(true);
  }, 120_000);

  describe('a worker process killed mid-ingest', () => {
    const out = join(repo, '.cache', `ingest-test-${process.pid}`);
    beforeAll(async () => {
      const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
      await promisify(execFile)(process.execPath, [tsc, '--outDir', out, '--rootDir', repo, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
        '--strict', '--skipLibCheck', '--esModuleInterop', '--resolveJsonModule', '--types', 'node', join(repo, 'backend', 'ingest', 'ingest-main.ts')], { cwd: repo });
    }, 120_000);
    afterAll(() => rmSync(out, { recursive: true, force: true }));

    function spawnWorker(url: string): { child: ChildProcess; ready: Promise<void> } {
      const child = spawn(process.execPath, [join(out, 'backend', 'ingest', 'ingest-main.js'), '--broker', broker.url, '--db', url, '--client-id', 'killed-worker', '--group', 'kill'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      const ready = new Promise<void>((resolve, reject) => {
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('ingest: ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${err}`)));
      });
      ready.catch(() => undefined);
      cleanups.push(() => child.kill('SIGKILL'));
      return { child, ready };
    }

    it('loses nothing: the restarted worker gets what was not acked', async () => {
      const { url, store } = await database();
      const first = spawnWorker(url);
      await first.ready;
      const car = await vehicle('kill-car');
      const messages = 400;
      const publishing = (async () => {
        for (let i = 0; i < messages; i++) await car.publishAsync(`roadlink/v1/${VIN_A}/data`, speedBatch(1 + i * 200, 200), { qos: 1 });
      })();
      for (let deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
        if ((await storedSamples(store)) >= 4_000) break;
      }
      first.child.kill('SIGKILL');
      await publishing;
      const atKill = await storedSamples(store);
      expect(atKill).toBeGreaterThan(0);
      expect(atKill).toBeLessThan(messages * 200);
      const second = spawnWorker(url);
      await second.ready;
      for (let deadline = Date.now() + 40_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        if ((await storedSamples(store)) >= messages * 200) break;
      }
      expect(await storedSamples(store)).toBe(messages * 200);
      const series = (await store.samples(VIN_A, 'Vehicle.Speed', T0, T0 + 86_400_000))!;
      expect(series.timeMs.length).toBe(messages * 200);
      expect(new Set(series.timeMs).size).toBe(messages * 200);
    }, 120_000);
  });
});
