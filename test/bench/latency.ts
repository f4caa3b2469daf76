/**
 * End-to-end uplink benchmark (issue "Uplink and remote commands"): the whole agent (examples/demo,
 * demo DBC, the demo drive of apps/demo/demo-log.ts) against a real local mosquitto.
 *
 * (a) Bytes on the wire per uploaded sample: the uplink's socket bytes (MQTT headers, properties,
 *     Checkin, status, events, keep-alives; TCP/IP headers not included) against the samples the
 *     regular rules uploaded, as the backend receiver decoded them. The same samples as JSON the way
 *     a naive agent would send them: one object per sample {"name", "time" (RFC 3339), "value"}, one
 *     array per message the agent sent, raw and deflated. Message size decides the figure, and the
 *     store commits on a wall-clock timer, so two runs: the drive at full speed (a few big messages)
 *     and at 30x with commits every 33 ms (about 1 s of driving per message, as on the road).
 * (b) Collision latency: while the demo drive plays at its recorded pace, an AIRBAG_STATUS frame with
 *     AirbagDeployed rising enters the agent's frame sink (stamped with the current time); the clock
 *     stops when `roadlink backend` (the reference receiver, a separate process) prints the collision
 *     line. The collision feature's cooldown and post window are shortened (100 ms) so that
 *     collisions can follow each other a few hundred ms apart; each is answered by a reset frame.
 * (c) Upload throughput: the store pre-filled by the agent itself (the demo drive looped with every
 *     catalog signal recorded at 100 ms, no uplink), then an agent with the uplink on that store and
 *     no input: samples/s from its MQTT connect until every row is acknowledged. Twice: rows as the
 *     full-speed fill commits them (thousands of samples), and ~1 s rows (commit_rows 330), the
 *     backlog a vehicle builds while offline.
 *
 * Run: npx tsc -p . && node dist/test/bench/run.js latency
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { deflateRawSync } from 'node:zlib';
import mqtt from 'mqtt';
import { Agent, type AgentOptions } from '../../agent/runtime/agent.js';
import { encodeMessage } from '../../agent/decode/encoder.js';
import { Receiver } from '../../backend/receiver.js';
import { WINDOW_FIELDS } from '../../backend/message-json.js';
import { createFrameBatch, pushFrame } from '../../drivers/can/frame-batch.js';
import { wallClockUs } from '../../drivers/can/wall-clock.js';
import { benchDemo, type BenchDemo, type YamlEdit } from '../helpers/bench-demo.js';
import { feedDrivers, type FeedDriver } from '../helpers/bench-feed-driver.js';
import { Mosquitto } from '../helpers/mosquitto.js';

const COLLISIONS = 200;
const WARM_UP_COLLISIONS = 10;
/** Passes of the 11-minute demo drive that fill the store for (c). */
const FILL_PASSES = 20;
const FULL_SPEED: YamlEdit = [/speed: 30\b/, 'speed: 0'];

const quiet: AgentOptions['log'] = (level, message) => {
  if (level === 'error') process.stderr.write(`latency bench agent: ${message}\n`);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh mosquitto for a benchmark on `demo` (whose folder goes if the broker does not start). */
function brokerFor(demo: BenchDemo): Promise<Mosquitto> {
  return Mosquitto.start().catch((err: Error) => {
    demo.dispose();
    throw err;
  });
}

async function until(what: string, done: () => boolean, timeoutMs = 60_000, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`latency bench: timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

// --- (a) bytes per uploaded sample ---------------------------------------------------------------

interface JsonSample {
  signal: string;
  time: string;
  value: number;
}
type Line = { type: string; samples?: JsonSample[]; [key: string]: unknown };

/** Samples of every event window (preWindow, postWindow, window) anywhere in a receiver line. */
function windowSamples(value: unknown, out: JsonSample[] = []): JsonSample[] {
  if (Array.isArray(value)) for (const item of value) windowSamples(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (WINDOW_FIELDS.has(key) && v && typeof v === 'object' && Array.isArray((v as Line).samples)) out.push(...(v as Line).samples!);
      else windowSamples(v, out);
    }
  }
  return out;
}

/** JSON bytes of `samples` as a naive agent sends them: [{"name","time","value"}, ...]. */
function naiveJson(samples: JsonSample[]): { raw: number; deflated: number } {
  const text = Buffer.from(JSON.stringify(samples.map((s) => ({ name: s.signal, time: s.time, value: s.value }))));
  return { raw: text.length, deflated: deflateRawSync(text).length };
}

/** Payload bytes per topic kind (data, events, checkin...) of everything published under roadlink/v1/. */
async function payloadCounter(url: string) {
  const bytes: Record<string, number> = {};
  const client = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  client.on('message', (topic, payload) => {
    const kind = topic.split('/').slice(3).join('/');
    bytes[kind] = (bytes[kind] ?? 0) + payload.length;
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe('roadlink/v1/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  return { bytes, end: () => client.endAsync() };
}

export async function bytesPerSample(label: string, edits: YamlEdit[]): Promise<void> {
  const demo = benchDemo(edits);
  const broker = await brokerFor(demo);
  try {
    const config = demo.config();
    config.uplink!.broker = broker.url;
    const lines: Line[] = [];
    const receiver = new Receiver({ broker: { url: broker.url }, shared: false, writeLine: (l) => lines.push(JSON.parse(l) as Line), log: () => undefined });
    await receiver.start();
    const counter = await payloadCounter(broker.url);
    const started = performance.now();
    const agent = await Agent.start(config, { replayTimestamps: 'log', log: quiet });
    await agent.replaysEnded;
    await agent.drained(5);
    const seconds = (performance.now() - started) / 1000;
    const up = agent.uplink!.stats();
    const dataLines = () => lines.filter((l) => l.type === 'data');
    const eventLines = () => lines.filter((l) => l.type === 'event');
    await until('the receiver to get every acknowledged row', () => dataLines().reduce((n, l) => n + l.samples!.length, 0) >= up.ackedSamples && eventLines().length >= up.ackedRecords);
    const frames = agent.stats().frames;
    await agent.stop();
    await receiver.stop();
    await counter.end();

    const data = dataLines();
    const dataSamples = data.reduce((n, l) => n + l.samples!.length, 0);
    const windows = eventLines().map((l) => windowSamples(l)).filter((w) => w.length > 0);
    const windowCount = windows.reduce((n, w) => n + w.length, 0);
    const json = { raw: 0, deflated: 0 };
    const jsonAll = { raw: 0, deflated: 0 };
    for (const l of data) {
      const j = naiveJson(l.samples!);
      json.raw += j.raw;
      json.deflated += j.deflated;
    }
    for (const w of windows) {
      const j = naiveJson(w);
      jsonAll.raw += j.raw;
      jsonAll.deflated += j.deflated;
    }
    jsonAll.raw += json.raw;
    jsonAll.deflated += json.deflated;
    const all = dataSamples + windowCount;
    const b = (n: number, d: number) => `${(n / d).toFixed(2)} B`;
    console.log(`(a) [${label}] demo drive: ${frames} frames in ${seconds.toFixed(1)} s; uploaded ${dataSamples} rule samples in ${data.length} data messages, ${up.ackedRecords} event records carrying ${windowCount} window samples`);
    console.log(`(a) [${label}] wire bytes per uploaded rule sample: ${b(up.wireBytesSent, dataSamples)} (all ${up.wireBytesSent} bytes the agent sent); per sample counting event windows too: ${b(up.wireBytesSent, all)}`);
    console.log(`(a) [${label}] payload bytes per rule sample on the data topic: ${b(counter.bytes.data ?? 0, dataSamples)}; row payloads (data + events) ${up.publishedPayloadBytes} bytes`);
    console.log(`(a) [${label}] the rule samples as naive JSON (name, RFC 3339 time, value; one array per message): ${b(json.raw, dataSamples)} raw, ${b(json.deflated, dataSamples)} deflated per sample`);
    console.log(`(a) [${label}] rule and window samples as naive JSON: ${b(jsonAll.raw, all)} raw, ${b(jsonAll.deflated, all)} deflated per sample (agent: ${b(up.wireBytesSent, all)} on the wire)`);
  } finally {
    demo.dispose();
    await broker.dispose();
  }
}

// --- (b) collision latency -----------------------------------------------------------------------

/** `roadlink backend` in its own process; `onLine` gets each printed line and the time it arrived. */
async function backendProcess(url: string, onLine: (line: string, atMs: number) => void) {
  const main = fileURLToPath(new URL('../../apps/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'backend', '--broker', url, '--no-share'], { stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout }).on('line', (line) => onLine(line, performance.now()));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('receiving from')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`roadlink backend exited with ${code}: ${stderr}`)));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Gaps over 20 ms between runs of a 2 ms timer: "busy" when the process used the CPU for most of the
 * gap (work on the event loop), "off-CPU" when it hardly ran (a loaded machine did not schedule it, or a
 * system call blocked).
 */
function stallProbe() {
  const stalls = { offCpu: 0, busy: 0, longestMs: 0 };
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    const gapMs = now - wall;
    if (gapMs > 20) {
      if ((used.user + used.system) / 1000 < gapMs / 2) stalls.offCpu++;
      else stalls.busy++;
      stalls.longestMs = Math.max(stalls.longestMs, gapMs);
    }
    wall = now;
    cpu = process.cpuUsage();
  }, 2);
  return { stop: () => (clearInterval(timer), stalls) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

export async function collisionLatency(): Promise<void> {
  const demo = benchDemo([
    [/speed: 30\b/, 'speed: 1\n    loop: true'],
    ['    post_window: 5s\n', '    post_window: 100ms\n    cooldown: 100ms\n'],
  ]);
  const broker = await brokerFor(demo);
  let waiting: { timeMs: number; resolve: (atMs: number) => void } | undefined;
  let backend: Awaited<ReturnType<typeof backendProcess>> | undefined;
  let agent: Agent | undefined;
  try {
    backend = await backendProcess(broker.url, (line, atMs) => {
      if (!waiting || !line.includes('"collision"')) return;
      const json = JSON.parse(line) as { type: string; time?: string };
      if (json.type === 'event' && json.time !== undefined && Math.abs(Date.parse(json.time) - waiting.timeMs) <= 1) waiting.resolve(atMs);
    });
    const config = demo.config();
    config.uplink!.broker = broker.url;
    let feed!: FeedDriver;
    agent = await Agent.start(config, { log: quiet, canDrivers: feedDrivers((f) => (feed = f), true) });
    const uplink = agent.uplink!;
    await until('the uplink to connect', () => uplink.stats().connected, 10_000);
    await sleep(1000);
    const airbag = demo.db.messages.find((m) => m.name === 'AIRBAG_STATUS');
    if (!airbag) throw new Error('the demo DBC has no AIRBAG_STATUS');
    const crash = encodeMessage(airbag, { CrashDetected: 1, AirbagDeployed: 1, CrashSeverity: 3 });
    const calm = encodeMessage(airbag, { CrashDetected: 0, AirbagDeployed: 0, CrashSeverity: 0 });
    const batch = createFrameBatch(1, [config.buses[0].name]);
    const send = (data: Uint8Array, timeUs: number) => {
      batch.count = 0;
      pushFrame(batch, { bus: config.buses[0].name, id: airbag.id, data, timeUs });
      feed.feed(batch);
    };
    const latencies: number[] = [];
    const acks: number[] = [];
    let timeouts = 0;
    // The broker's PUBACK of the collision record (a row timed at the trigger): splits agent + broker from broker → receiver.
    let ackedAt = NaN;
    let triggerUs = NaN;
    uplink.on('acked', (row) => {
      if (row.kind === 'record' && Math.abs(row.timeUs - triggerUs) < 1000 && Number.isNaN(ackedAt)) ackedAt = performance.now();
    });
    const probe = stallProbe();
    for (let k = 0; k < WARM_UP_COLLISIONS + COLLISIONS; k++) {
      const timeUs = wallClockUs();
      const printed = new Promise<number>((resolve) => (waiting = { timeMs: Math.floor(timeUs / 1000), resolve }));
      triggerUs = timeUs;
      ackedAt = NaN;
      const t0 = performance.now();
      send(crash, timeUs);
      const at = await Promise.race([printed, sleep(5000).then(() => NaN)]);
      waiting = undefined;
      if (Number.isNaN(at)) timeouts++;
      else if (k >= WARM_UP_COLLISIONS) {
        latencies.push(at - t0);
        acks.push(ackedAt - t0);
      }
      send(calm, wallClockUs());
      await sleep(250 + Math.random() * 250); // not in step with the replay's or the uplink's timers
    }
    const stalls = probe.stop();
    const collisions = agent.features.collision?.counters.collisions ?? NaN;
    const sorted = [...latencies].sort((a, b) => a - b);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    console.log(`(b) collision frame → receiver line, ${sorted.length} collisions (after ${WARM_UP_COLLISIONS} warm-up; ${collisions} counted by the feature, ${timeouts} not printed within 5 s), demo drive playing at its recorded pace`);
    console.log(`(b) collision latency: p50 ${ms(percentile(sorted, 0.5))}, p99 ${ms(percentile(sorted, 0.99))}, max ${ms(sorted[sorted.length - 1])}, mean ${ms(mean)}, min ${ms(sorted[0])}`);
    const ackSorted = acks.filter((a) => !Number.isNaN(a)).sort((a, b) => a - b);
    console.log(`(b) of which frame → broker PUBACK of the collision record: p50 ${ms(percentile(ackSorted, 0.5))}, p99 ${ms(percentile(ackSorted, 0.99))}, max ${ms(ackSorted[ackSorted.length - 1])} (${ackSorted.length} seen before the line)`);
    const load = loadavg()[0].toFixed(1);
    console.log(`(b) agent process event-loop stalls over 20 ms: ${stalls.offCpu} off-CPU (not scheduled, or blocked in a system call), ${stalls.busy} busy (work on the loop); longest ${ms(stalls.longestMs)}; load average ${load} on ${cpus().length} cores`);
  } finally {
    await agent?.stop();
    await backend?.stop();
    demo.dispose();
    await broker.dispose();
  }
}

// --- (c) upload throughput -----------------------------------------------------------------------

export async function uploadThroughput(label: string, edits: YamlEdit[]): Promise<void> {
  const names = benchDemo([]);
  const catalog = names.config().signals.map((s) => s.name);
  names.dispose();
  const record: YamlEdit = ['\nrules:\n', `\nrules:\n  - name: record_all\n    type: regular\n    period: 100ms\n    signals: [${catalog.join(', ')}]\n`];
  const demo = benchDemo([[/speed: 30\b/, 'speed: 0\n    loop: true'], record, ...edits]);
  const broker = await brokerFor(demo);
  try {
    // Fill: the agent records the looped drive with no uplink (the store keeps everything).
    const offline = demo.config();
    delete offline.uplink;
    const filler = await Agent.start(offline, { replayTimestamps: 'log', log: quiet });
    const framesPerPass = countLines(demo.log);
    await until('the store to be filled', () => filler.stats().frames >= FILL_PASSES * framesPerPass, 600_000, 20);
    await filler.stop();
    const filled = filler.store.stats();

    const config = demo.config();
    config.uplink!.broker = broker.url;
    let connectedAt = NaN;
    const agent = await Agent.start(config, { log: quiet, canDrivers: feedDrivers(() => undefined) });
    const uplink = agent.uplink!;
    if (uplink.stats().connected) connectedAt = performance.now();
    else uplink.once('connect', () => (connectedAt = performance.now()));
    let lastAckAt = NaN;
    uplink.on('acked', () => (lastAckAt = performance.now()));
    // Not agent.drained(): acked rows leave the store file at its next commit (a 1 s timer).
    await until('every stored row to be acknowledged', () => uplink.stats().ackedRows >= filled.storedRows, 600_000, 1);
    const seconds = (lastAckAt - connectedAt) / 1000;
    const up = uplink.stats();
    await agent.stop();
    console.log(`(c) [${label}] store filled by the agent: ${filled.storedSamples} samples + ${filled.storedRecords} records in ${filled.storedRows} rows (${FILL_PASSES} passes of the demo drive, all ${catalog.length} signals every 100 ms)`);
    console.log(`(c) [${label}] upload throughput, connect → last PUBACK: ${Math.round(up.ackedSamples / seconds).toLocaleString('en')} samples/s, ${Math.round(up.ackedMessages / seconds)} messages/s (${up.ackedSamples} samples, ${up.ackedRecords} records, ${up.ackedMessages} messages in ${seconds.toFixed(2)} s)`);
    console.log(`(c) [${label}] wire bytes per uploaded sample for this recording: ${(up.wireBytesSent / up.ackedSamples).toFixed(2)} B`);
  } finally {
    demo.dispose();
    await broker.dispose();
  }
}

function countLines(path: string): number {
  let n = 0;
  for (const byte of readFileSync(path)) if (byte === 10) n++;
  return n;
}

export async function run(): Promise<void> {
  await bytesPerSample('full speed', [FULL_SPEED]);
  // 30x the recorded pace with commits every 33 ms: each message holds about 1 s of driving, as live.
  await bytesPerSample('1 s messages', [[/^storage:\n/m, 'storage:\n  commit_interval: 33ms\n']]);
  await collisionLatency();
  await uploadThroughput('rows as committed at full speed', []);
  // About 320 samples per second of driving: rows of ~1 s, the backlog a vehicle builds while offline.
  await uploadThroughput('1 s rows', [[/^storage:\n/m, 'storage:\n  commit_rows: 330\n']]);
}
