/**
 * Store benchmark: append rate and flash writes of the SQLite store (agent/store/store.ts).
 *
 * Each configuration runs in its own child process (this file with `--config <json>`), so that its
 * disk writes (/proc/self/io write_bytes: bytes the process caused to be written to storage,
 * WAL + checkpoints + main file, measured from before open to after close, which checkpoints) and
 * its peak RSS are its own. The workload is 50 signals of a driving vehicle at 10 ms .. 1 s periods
 * with CAN timestamp jitter and sensor noise, generated beforehand (100k samples replayed with
 * advancing time) so that the timing covers the store only.
 *
 * Run: npx tsc -p . && node dist/test/bench/run.js store
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROW_OVERHEAD_BYTES } from '../../agent/store/schema.js';
import { Store, type Synchronous } from '../../agent/store/store.js';
import { Priority } from '../../wire/priority.js';

const TOTAL_SAMPLES = 2_000_000;

interface Config {
  name: string;
  synchronous: Synchronous;
  commitMaxSamples: number;
  /** Also play the uplink: after each commit take every row and ack it (deleted by the next commit). */
  drain: boolean;
  /** SQLite page size, when not the store's default. */
  pageSize?: number;
}

// The workload is ~1,170 samples per second of driving: 2k samples is a commit every ~1.7 s of a
// real vehicle, 200 one every ~170 ms; 50k is what the default commitMaxSamples gives at full speed.
const CONFIGS: Config[] = [
  { name: 'NORMAL, 50k/commit', synchronous: 'NORMAL', commitMaxSamples: 50_000, drain: false },
  { name: 'FULL, 50k/commit', synchronous: 'FULL', commitMaxSamples: 50_000, drain: false },
  { name: 'NORMAL, 2k/commit', synchronous: 'NORMAL', commitMaxSamples: 2_000, drain: false },
  { name: 'FULL, 2k/commit', synchronous: 'FULL', commitMaxSamples: 2_000, drain: false },
  { name: 'NORMAL, 200/commit', synchronous: 'NORMAL', commitMaxSamples: 200, drain: false },
  { name: 'FULL, 200/commit', synchronous: 'FULL', commitMaxSamples: 200, drain: false },
  { name: 'NORMAL, 2k/commit, uplink acking every row', synchronous: 'NORMAL', commitMaxSamples: 2_000, drain: true },
  { name: 'NORMAL, 2k/commit, 4 KiB pages', synchronous: 'NORMAL', commitMaxSamples: 2_000, drain: false, pageSize: 4096 },
  { name: 'NORMAL, 200/commit, 4 KiB pages', synchronous: 'NORMAL', commitMaxSamples: 200, drain: false, pageSize: 4096 },
];

interface Result {
  samplesPerSecond: number;
  /** Samples per second of CPU time (user + system) of the append loop: steadier on a shared machine. */
  samplesPerCpuSecond: number;
  writeBytesPerSample: number;
  writeCallBytesPerSample: number;
  blobBytesPerSample: number;
  commits: number;
  fileBytes: number;
  peakRssMiB: number;
  reopenMs: number;
}

// --- workload ------------------------------------------------------------------------------------

interface SignalSpec {
  periodMs: number;
  scale: number;
  offset: number;
  value: (tSec: number, noise: number) => number;
}

function signalSpecs(): SignalSpec[] {
  const speed = (t: number) => Math.max(0, 60 + 45 * Math.sin(t / 90) + 10 * Math.sin(t / 7));
  const specs: SignalSpec[] = [];
  // 100 Hz: four wheel speeds and the steering angle.
  for (let w = 0; w < 4; w++) specs.push({ periodMs: 10, scale: 0.01, offset: 0, value: (t, n) => speed(t) * (1 + 0.002 * w) + n * 0.02 });
  specs.push({ periodMs: 10, scale: 0.1, offset: 0, value: (t, n) => 30 * Math.sin(t / 5) + n * 0.1 });
  // 50 Hz: engine speed, pedals, accelerations, yaw rate...
  specs.push({ periodMs: 20, scale: 0.25, offset: 0, value: (t, n) => 800 + speed(t) * 35 + n * 5 });
  specs.push({ periodMs: 20, scale: 0.4, offset: 0, value: (t) => Math.max(0, 40 * Math.sin(t / 11)) });
  specs.push({ periodMs: 20, scale: 0.1, offset: 0, value: (t) => Math.max(0, -60 * Math.sin(t / 11)) });
  for (let a = 0; a < 3; a++) specs.push({ periodMs: 20, scale: 0.001, offset: 0, value: (t, n) => 0.3 * Math.sin(t / (3 + a)) + n * 0.01 + (a === 2 ? 9.81 : 0) });
  for (let k = 0; k < 4; k++) specs.push({ periodMs: 20, scale: 0.01, offset: -100, value: (t, n) => 5 * Math.sin(t / (4 + k)) + n * 0.02 });
  // 10 Hz: temperatures, voltages, fuel, gear, torque...
  for (let k = 0; k < 5; k++) specs.push({ periodMs: 100, scale: 1, offset: -40, value: (t) => 85 + k * 3 + 2 * Math.sin(t / 300) });
  for (let k = 0; k < 4; k++) specs.push({ periodMs: 100, scale: 0.01, offset: 0, value: (t, n) => 13.8 + 0.1 * Math.sin(t / 50) + n * 0.01 });
  specs.push({ periodMs: 100, scale: 0.4, offset: 0, value: (t) => 62 - t / 600 });
  specs.push({ periodMs: 100, scale: 1, offset: 0, value: (t) => Math.min(6, 1 + Math.floor(speed(t) / 22)) });
  for (let k = 0; k < 4; k++) specs.push({ periodMs: 100, scale: 0.5, offset: -500, value: (t, n) => 150 * Math.sin(t / (6 + k)) + n });
  // 1 Hz: odometer, tyre pressures, door/lamp states, ambient...
  specs.push({ periodMs: 1000, scale: 0.1, offset: 0, value: (t) => 123_456 + t * 0.0167 });
  for (let k = 0; k < 4; k++) specs.push({ periodMs: 1000, scale: 0.25, offset: 0, value: (t) => 230 + k + Math.sin(t / 900) });
  for (let k = 0; k < 13; k++) specs.push({ periodMs: 1000, scale: 1, offset: 0, value: (t) => (Math.floor(t / (120 + 37 * k)) % 2) });
  specs.push({ periodMs: 1000, scale: 0.5, offset: -40, value: (t) => 18 + t / 3600 });
  specs.push({ periodMs: 1000, scale: 1, offset: 0, value: (t) => Math.floor(t / 60) % 256 });
  return specs;
}

interface Block {
  count: number;
  signal: Uint32Array;
  timeUs: Float64Array;
  value: Float64Array;
  durationUs: number;
}

/** 100k samples of the 50 signals in arrival order, with ±300 µs timestamp jitter. */
function makeBlock(specs: SignalSpec[], size = 100_000): Block {
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 4294967296;
  const block: Block = { count: 0, signal: new Uint32Array(size), timeUs: new Float64Array(size), value: new Float64Array(size), durationUs: 0 };
  for (let tickMs = 0; block.count < size; tickMs += 10) {
    for (let s = 0; s < specs.length && block.count < size; s++) {
      if (tickMs % specs[s].periodMs !== 0) continue;
      const k = block.count++;
      block.signal[k] = s;
      block.timeUs[k] = tickMs * 1000 + s * 20 + Math.floor((rnd() - 0.5) * 600);
      block.value[k] = specs[s].value(tickMs / 1000, rnd() - 0.5);
      block.durationUs = (tickMs + 10) * 1000;
    }
  }
  return block;
}

// --- one configuration (child process) ----------------------------------------------------------

function procIo(): { writeBytes: number; wchar: number } {
  const text = readFileSync('/proc/self/io', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { writeBytes: field('write_bytes'), wchar: field('wchar') };
}

function runConfig(config: Config, dir: string): Result {
  const specs = signalSpecs();
  const block = makeBlock(specs);
  const path = join(dir, 'bench.db');
  const signalGrid = (id: number) => ({ scale: specs[id].scale, offset: specs[id].offset });
  const t0Us = Date.UTC(2026, 0, 1) * 1000;

  const io0 = procIo();
  const store = Store.open({
    path,
    signalGrid,
    synchronous: config.synchronous,
    commitMaxSamples: config.commitMaxSamples,
    commitIntervalMs: 3_600_000, // commits by size only, so every run commits the same way
    quotaBytes: 1 << 30,
    pageSize: config.pageSize,
  });
  let drainedBlobBytes = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let appended = 0, round = 0; appended < TOTAL_SAMPLES; round++) {
    const base = t0Us + round * block.durationUs;
    const { signal, timeUs, value } = block;
    for (let slice = 0; slice < block.count; slice += 100) {
      for (let i = slice; i < slice + 100; i++) {
        store.appendSample('data', Priority.normal, signal[i], base + timeUs[i], value[i]);
      }
      if (config.drain) {
        const rows = store.nextBatch(1000);
        for (const r of rows) drainedBlobBytes += r.bytes.length;
        if (rows.length > 0) store.ack(rows.map((r) => r.rowId));
      }
    }
    appended += block.count;
  }
  store.flush();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const stats = store.stats();
  store.close();
  const io1 = procIo();
  const fileBytes = statSync(path).size;
  const appendedTotal = Math.ceil(TOTAL_SAMPLES / block.count) * block.count;
  const reopenStart = process.hrtime.bigint();
  Store.open({ path, signalGrid }).close(); // includes PRAGMA quick_check of the whole file
  const reopenMs = Number(process.hrtime.bigint() - reopenStart) / 1e6;
  return {
    samplesPerSecond: appendedTotal / seconds,
    samplesPerCpuSecond: appendedTotal / cpuSeconds,
    writeBytesPerSample: (io1.writeBytes - io0.writeBytes) / appendedTotal,
    writeCallBytesPerSample: (io1.wchar - io0.wchar) / appendedTotal,
    blobBytesPerSample: (drainedBlobBytes + stats.storedBytes - stats.storedRows * ROW_OVERHEAD_BYTES) / appendedTotal,
    commits: stats.commits,
    fileBytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    reopenMs,
  };
}

// --- driver ---------------------------------------------------------------------------------------

function filesystemOf(dir: string): string {
  let best = { mount: '', type: '?' };
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mount, type] = line.split(' ');
    if (mount && (dir === mount || dir.startsWith(mount.endsWith('/') ? mount : `${mount}/`)) && mount.length >= best.mount.length) best = { mount, type };
  }
  return best.type;
}

function runChild(config: Config): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--config', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Result) : reject(new Error(`store bench child exited with ${code}`))));
  });
}

export async function run(): Promise<void> {
  const fs = filesystemOf(tmpdir());
  console.log(`store: ${TOTAL_SAMPLES.toLocaleString('en')}+ samples of 50 signals per run, files in ${tmpdir()} (${fs})`);
  if (fs === 'tmpfs') console.log('store: WARNING tmpdir is tmpfs, write_bytes will read 0; set TMPDIR to a disk folder');
  for (const config of CONFIGS) {
    const r = await runChild(config);
    const f = (n: number, d = 1) => n.toFixed(d);
    const rate = (n: number) => Math.round(n).toLocaleString('en');
    console.log(`store [${config.name}] append rate: ${rate(r.samplesPerSecond)} samples/s wall clock, ${rate(r.samplesPerCpuSecond)} samples per CPU second`);
    console.log(`store [${config.name}] disk write_bytes: ${f(r.writeBytesPerSample, 2)} bytes/sample (write() calls: ${f(r.writeCallBytesPerSample, 2)} bytes/sample)`);
    console.log(`store [${config.name}] chunk blob: ${f(r.blobBytesPerSample, 2)} bytes/sample, ${r.commits} commits, file ${f(r.fileBytes / 1048576)} MiB, peak RSS ${f(r.peakRssMiB)} MiB, reopen with quick_check ${f(r.reopenMs)} ms`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--config') {
  const config = JSON.parse(process.argv[3]) as Config;
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-bench-store-'));
  try {
    process.stdout.write(JSON.stringify(runConfig(config, dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
