/**
 * Uplink benchmark: upload throughput from the SQLite store to a local mosquitto (samples/s until
 * every row is PUBACKed), and bytes on the wire per uploaded sample against the same samples as JSON.
 *
 * Data: the real Kona log (shared corpus) decoded with hyundai_can.dbc, every signal of every frame
 * (the "record everything" case), repeated with shifted times to at least TARGET_SAMPLES samples.
 * Samples are committed to the store once per second of log time, as the agent's 1 s commit interval
 * does while driving, so each stored chunk (and message) holds one second of data.
 *
 * Wire bytes are what the uplink's socket wrote (MQTT headers, properties, Checkin, keep-alives), TCP
 * and IP headers not included. JSON is one message per second: {"vin":..,"samples":[{"signal":NAME,
 * "time":ms,"value":v},...]}, the form a naive agent would send; also shown deflated.
 *
 * Run: npx tsc -p . && node dist/test/bench/run.js uplink
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder, type SignalInfo } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { Store } from '../../agent/store/store.js';
import { Uplink } from '../../agent/uplink/uplink.js';
import { corpusFile } from '../helpers/corpus.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Priority } from '../../wire/priority.js';

const TARGET_SAMPLES = 3_000_000;
/** The small-message run: chunks of this many samples (a slow vehicle or a short commit interval). */
const SMALL_CHUNK = 100;
const SMALL_TOTAL = 200_000;
const VIN = 'KMHK381GFKU000001';

interface Samples {
  count: number;
  signal: Uint32Array;
  timeUs: Float64Array;
  value: Float64Array;
  signals: SignalInfo[];
}

/** Every decoded sample of the log, in arrival order. */
async function decodeKona(): Promise<Samples> {
  const { db } = loadDbcFile(corpusFile('dbc/opendbc/hyundai_can.dbc'));
  const decoder = new Decoder([{ bus: '*', databases: [db] }]);
  const signal: number[] = [];
  const timeUs: number[] = [];
  const value: number[] = [];
  const out = createSampleBatch(65536);
  const parser = new CandumpParser(createFrameBatch(1024), (frames) => {
    out.count = 0;
    decoder.decode(frames, out);
    for (let i = 0; i < out.count; i++) {
      if (!Number.isFinite(out.value[i])) continue;
      signal.push(out.signal[i]);
      timeUs.push(out.timeUs[i]);
      value.push(out.value[i]);
    }
  });
  parser.push(readFileSync(corpusFile('logs/eldominio/kona/turnonlog.log')));
  parser.end();
  return { count: signal.length, signal: Uint32Array.from(signal), timeUs: Float64Array.from(timeUs), value: Float64Array.from(value), signals: decoder.signals };
}

/** Scale used on the wire: the DBC factor, or 0.001 for floating-point signals. */
function gridOf(info: SignalInfo): { scale: number; offset: number } {
  return info.isFloat || !(info.factor > 0) ? { scale: 0.001, offset: 0 } : { scale: info.factor, offset: info.offset };
}

/**
 * Calls `each(signal, timeUs, value)` for the log repeated to `target` samples, each copy shifted by
 * the log's duration; `second()` whenever log time crosses a whole second.
 */
function replay(s: Samples, target: number, each: (signal: number, timeUs: number, value: number) => void, second: () => void): number {
  const duration = s.timeUs[s.count - 1] - s.timeUs[0] + 10_000;
  let n = 0;
  let lastSecond = Math.floor(s.timeUs[0] / 1e6);
  for (let copy = 0; n < target; copy++) {
    for (let i = 0; i < s.count && n < target; i++, n++) {
      const t = s.timeUs[i] + copy * duration;
      const sec = Math.floor(t / 1e6);
      if (sec !== lastSecond) {
        second();
        lastSecond = sec;
      }
      each(s.signal[i], t, s.value[i]);
    }
  }
  second();
  return n;
}

/** The agent's default uplink.batch_window. */
const AGENT_BATCH_WINDOW_MS = 30_000;

/**
 * Fills a store (one chunk per second of log time, or per `chunk` samples), then times the upload of
 * that backlog (what a vehicle has after hours offline), with the uplink's batching window.
 */
async function uploadRun(s: Samples, broker: Mosquitto, deflate: boolean, target: number, chunk?: number, batchWindowMs = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-bench-uplink-'));
  const store = Store.open({
    path: join(dir, 'bench.db'),
    commitIntervalMs: 3_600_000,
    commitMaxSamples: 10_000_000,
    quotaBytes: 1 << 30,
    signalGrid: (id) => gridOf(s.signals[id]),
  });
  try {
    let pending = 0;
    const total = replay(
      s,
      target,
      (signal, timeUs, value) => {
        store.appendSample('data', Priority.normal, signal, timeUs, value);
        if (chunk !== undefined && ++pending === chunk) {
          store.flush();
          pending = 0;
        }
      },
      () => chunk === undefined && store.flush(),
    );
    store.flush();
    const rows = store.stats().storedRows;
    const checkinSignals = s.signals.map((info) => ({ id: info.index, name: `${info.messageName}.${info.name}`, unit: info.unit, ...gridOf(info) }));
    const uplink = new Uplink({
      vin: VIN,
      broker: { url: broker.url },
      store,
      deflate,
      batchWindowMs,
      checkin: () => ({ signals: checkinSignals }),
      log: () => undefined,
    });
    const start = process.hrtime.bigint();
    uplink.start();
    await new Promise<void>((resolve) => {
      const check = () => (uplink.stats().ackedRows === rows ? resolve() : setTimeout(check, 5));
      check();
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const stats = uplink.stats();
    await uplink.stop();
    return { total, rows, seconds, stats };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same samples as one JSON message per second of log time. */
function jsonBytes(s: Samples): { plain: number; deflated: number } {
  let plain = 0;
  let deflated = 0;
  let batch: { signal: string; time: number; value: number }[] = [];
  const names = s.signals.map((info) => `${info.messageName}.${info.name}`);
  replay(
    s,
    TARGET_SAMPLES,
    (signal, timeUs, value) => batch.push({ signal: names[signal], time: Math.floor(timeUs / 1000), value }),
    () => {
      if (batch.length === 0) return;
      const text = Buffer.from(JSON.stringify({ vin: VIN, samples: batch }));
      plain += text.length;
      deflated += deflateRawSync(text).length;
      batch = [];
    },
  );
  return { plain, deflated };
}

export async function run(): Promise<void> {
  const samples = await decodeKona();
  const logSeconds = (samples.timeUs[samples.count - 1] - samples.timeUs[0]) / 1e6;
  console.log(`input: Kona log, ${samples.count} samples in ${logSeconds.toFixed(1)} s (${Math.round(samples.count / logSeconds)} samples/s of driving), repeated`);
  const broker = await Mosquitto.start();
  try {
    for (const deflate of [true, false]) {
      const label = deflate ? 'protobuf + deflate' : 'protobuf';
      const r = await uploadRun(samples, broker, deflate, TARGET_SAMPLES);
      console.log(`upload throughput, 1 s messages (${label}): ${Math.round(r.total / r.seconds)} samples/s (${r.total} samples in ${r.rows} messages, ${r.seconds.toFixed(2)} s to the last PUBACK)`);
      console.log(`bytes on the wire per sample (${label}): ${(r.stats.wireBytesSent / r.total).toFixed(3)} B (payload ${(r.stats.publishedPayloadBytes / r.total).toFixed(3)} B)`);
    }
    // The backlog as the agent uploads it: its default 30 s batching window counts from the samples'
    // times, so rows older than the window (all of them, the log is from the past) leave at once, merged.
    const windowed = await uploadRun(samples, broker, true, TARGET_SAMPLES, undefined, AGENT_BATCH_WINDOW_MS);
    console.log(`backlog upload with the agent's ${AGENT_BATCH_WINDOW_MS / 1000} s batching window (protobuf + deflate): ${windowed.rows} rows of ~1 s in ${windowed.stats.publishedMessages} messages, ${windowed.seconds.toFixed(2)} s to the last PUBACK, ${Math.round(windowed.total / windowed.seconds)} samples/s, ${(windowed.stats.wireBytesSent / windowed.total).toFixed(3)} B/sample on the wire`);
    const small = await uploadRun(samples, broker, true, SMALL_TOTAL, SMALL_CHUNK);
    console.log(`upload throughput, ${SMALL_CHUNK}-sample messages (protobuf + deflate): ${Math.round(small.rows / small.seconds)} messages/s, ${Math.round(small.total / small.seconds)} samples/s`);
    console.log(`bytes on the wire per sample, ${SMALL_CHUNK}-sample messages (protobuf + deflate): ${(small.stats.wireBytesSent / small.total).toFixed(3)} B`);
    const json = jsonBytes(samples);
    console.log(`bytes per sample as JSON, 1 s messages: ${(json.plain / TARGET_SAMPLES).toFixed(2)} B (deflated: ${(json.deflated / TARGET_SAMPLES).toFixed(3)} B)`);
  } finally {
    await broker.dispose();
  }
}
