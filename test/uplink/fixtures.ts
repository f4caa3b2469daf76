/**
 * Shared pieces of the uplink tests: a real Store in a temp dir with a small signal table, sample
 * generation with the values each sample should decode to, and polling helpers.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event, Priority, type ISignalDescriptor } from '../../proto/gen/roadlink.js';
import { Store, type StoreOptions } from '../../agent/store/store.js';
import { Mosquitto, type MosquittoOptions } from '../helpers/mosquitto.js';

export const VIN_A = 'WVWZZZ1JZXW000001';
export const VIN_B = 'VF3ABCDEF12345678';

/** id -> descriptor; ids are sparse on purpose. */
export const SIGNALS: ISignalDescriptor[] = [
  { id: 1, name: 'Vehicle.Speed', unit: 'km/h', scale: 0.01, offset: 0 },
  { id: 2, name: 'Vehicle.Powertrain.CombustionEngine.Speed', unit: 'rpm', scale: 0.25, offset: 0 },
  { id: 5, name: 'Vehicle.Powertrain.CombustionEngine.ECT', unit: 'celsius', scale: 1, offset: -40 },
  { id: 9, name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees', scale: 1e-7, offset: 0 },
];
const byId = new Map(SIGNALS.map((s) => [s.id!, s]));

export interface TestStore {
  store: Store;
  path: string;
  dispose(): void;
}

export function openTestStore(options: Partial<StoreOptions> = {}): TestStore {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-uplink-store-'));
  const path = join(dir, 'store.db');
  const store = Store.open({
    path,
    commitIntervalMs: 50,
    signalGrid: (id) => {
      const s = byId.get(id);
      if (!s) throw new Error(`no signal ${id}`);
      return { scale: s.scale!, offset: s.offset! };
    },
    onError: (err) => {
      throw err;
    },
    ...options,
  });
  return {
    store,
    path,
    dispose: () => {
      try {
        store.close();
      } catch {
        // already closed
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Sample {
  signal: number;
  timeMs: number;
  value: number;
}

/**
 * Appends `count` samples of the four signals (speed and rpm every 10 ms, coolant every 100 ms,
 * latitude every 100 ms) to stream "data", committing every `perCommit` samples (one chunk row per
 * commit), and returns them with their original (unquantised) values.
 */
export function fillSamples(store: Store, count: number, perCommit = 1000, startMs = Date.UTC(2026, 0, 15, 8, 0, 0)): Sample[] {
  const out: Sample[] = [];
  let tick = 0;
  while (out.length < count) {
    const t = startMs + tick * 10;
    const batch: Sample[] = [
      { signal: 1, timeMs: t, value: 50 + 30 * Math.sin(tick / 300) },
      { signal: 2, timeMs: t, value: 1800 + 600 * Math.sin(tick / 120) },
    ];
    if (tick % 10 === 0) {
      batch.push({ signal: 5, timeMs: t, value: 60 + Math.min(30, tick / 100) });
      batch.push({ signal: 9, timeMs: t, value: 48.8566 + tick * 1e-6 });
    }
    for (const s of batch) {
      if (out.length >= count) break;
      store.appendSample('data', Priority.PRIORITY_NORMAL, s.signal, s.timeMs * 1000, s.value);
      out.push(s);
      if (out.length % perCommit === 0) store.flush();
    }
    tick++;
  }
  store.flush();
  return out;
}

/** Appends `count` alert events to stream "events" (Event.seq = the store's record seq). */
export function fillEvents(store: Store, count: number, startMs = Date.UTC(2026, 0, 15, 9, 0, 0)): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const seq = store.nextSeq('events');
    const bytes = Event.encode({
      seq,
      timeMs: startMs + i * 1000,
      priority: Priority.PRIORITY_HIGH,
      alert: { code: 'oil_pressure', active: i % 2 === 0, severity: 'warning', signal: 'Vehicle.OBD.OilPressure', value: 1.5 + i },
    }).finish();
    const got = store.appendRecord('events', Priority.PRIORITY_HIGH, (startMs + i * 1000) * 1000, bytes);
    if (got !== seq) throw new Error(`store gave seq ${got}, expected ${seq}`);
    seqs.push(seq);
  }
  store.flush();
  return seqs;
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Receiver output collected as parsed JSON lines. */
export function lineCollector() {
  const lines: Record<string, any>[] = [];
  return { lines, writeLine: (line: string) => lines.push(JSON.parse(line) as Record<string, any>) };
}

/** Samples of every data line, keyed `signalName@time`, with the value (and how often it arrived). */
export function receivedSamples(lines: Record<string, any>[]): Map<string, { value: number; copies: number }> {
  const out = new Map<string, { value: number; copies: number }>();
  for (const line of lines) {
    if (line.type !== 'data') continue;
    for (const s of line.samples as { signal: string; time: string; value: number }[]) {
      const key = `${s.signal}@${s.time}`;
      const seen = out.get(key);
      if (seen) seen.copies++;
      else out.set(key, { value: s.value, copies: 1 });
    }
  }
  return out;
}

/** Checks each sent sample arrived once or more, within half a grid step of its original value. */
export function missingOrWrong(sent: Sample[], received: Map<string, { value: number }>): string[] {
  const problems: string[] = [];
  for (const s of sent) {
    const d = byId.get(s.signal)!;
    const key = `${d.name}@${new Date(s.timeMs).toISOString()}`;
    const got = received.get(key);
    if (!got) problems.push(`missing ${key}`);
    else if (Math.abs(got.value - s.value) > d.scale! / 2 + 1e-9) problems.push(`${key}: got ${got.value}, sent ${s.value}`);
    if (problems.length >= 10) break;
  }
  return problems;
}

/**
 * One mosquitto for the enclosing describe block (started before its tests, disposed after), and a
 * list of cleanups run after each test in reverse order (uplinks, receivers, stores, clients).
 */
export function brokerForSuite(options?: MosquittoOptions | (() => MosquittoOptions)) {
  const suite = {
    broker: undefined as unknown as Mosquitto,
    cleanups: [] as (() => Promise<unknown> | unknown)[],
  };
  beforeAll(async () => {
    suite.broker = await Mosquitto.start(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await suite.broker?.dispose();
  });
  afterEach(async () => {
    for (const c of suite.cleanups.splice(0).reverse()) await c();
  });
  return suite;
}
