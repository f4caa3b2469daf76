/**
 * Decode alone: FrameBatches already in memory -> SampleBatch, with the compiled per-message decoders.
 * Input: the Kona log (shared corpus) with hyundai_can.dbc, parsed once, copied to at least 1,000,000
 * frames in 1024-frame batches (the size drivers hand over). The sample batch is reused per frame
 * batch, as the agent's pipeline does. GC runs during the timed loop show per-frame allocation.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { FRAME_STRIDE, type FrameBatch } from '../../drivers/can/frame-batch.js';
import { corpusFile } from '../helpers/corpus.js';
import { copyFrameBatch, logBatches } from '../helpers/bench-frames.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';

const TARGET_FRAMES = 1_000_000;
const BATCH = 1024;

/** The log as 1024-frame batches, repeated (as distinct copies) to at least TARGET_FRAMES frames. */
function loadBatches(logPath: string): { batches: FrameBatch[]; frames: number } {
  const { batches: once, frames: perCopy } = logBatches(logPath, BATCH);
  const copies = Math.ceil(TARGET_FRAMES / perCopy);
  const batches: FrameBatch[] = [];
  for (let c = 0; c < copies; c++) for (const b of once) batches.push(c === 0 ? b : copyFrameBatch(b));
  return { batches, frames: perCopy * copies };
}

function decodeAll(decoder: Decoder, batches: FrameBatch[]): { ms: number; samples: number; checksum: number } {
  const samples = createSampleBatch(16384);
  let total = 0;
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (const batch of batches) {
    samples.count = 0;
    decoder.decode(batch, samples);
    total += samples.count;
    checksum += samples.value[samples.count - 1];
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, samples: total, checksum };
}

export async function run(): Promise<void> {
  const { db } = loadDbcFile(corpusFile('dbc/opendbc/hyundai_can.dbc'));
  const { batches, frames } = loadBatches(corpusFile('logs/eldominio/kona/turnonlog.log'));
  const compileStart = process.hrtime.bigint();
  const decoder = new Decoder([{ bus: '*', databases: [db] }]);
  const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;

  decodeAll(decoder, batches.slice(0, 200)); // warm-up: let V8 optimise the generated functions
  let gcRuns = 0;
  const observer = new PerformanceObserver((list) => {
    gcRuns += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const decodedBefore = decoder.stats.decoded;
  const runs = [decodeAll(decoder, batches), decodeAll(decoder, batches), decodeAll(decoder, batches)];
  await new Promise((resolve) => setImmediate(resolve)); // deliver pending GC entries
  observer.disconnect();
  const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  const known = (decoder.stats.decoded - decodedBefore) / runs.length / frames;

  console.log(`input: Kona log x${Math.round(frames / 17173)} = ${frames} frames in ${batches.length} batches of ${BATCH}, hyundai_can.dbc (${db.messages.length} messages, ${decoder.signals.length} signals; ${(known * 100).toFixed(1)}% of frames known)`);
  console.log(`compile (new Decoder, ${decoder.messages.length} generated functions): ${compileMs.toFixed(1)} ms`);
  console.log(`decode time (best of 3): ${best.ms.toFixed(0)} ms`);
  console.log(`frames/s: ${Math.round(frames / (best.ms / 1000)).toLocaleString('en-US')}`);
  console.log(`signals/s: ${Math.round(best.samples / (best.ms / 1000)).toLocaleString('en-US')} (${(best.samples / frames).toFixed(1)} per frame)`);
  console.log(`ns/frame: ${((best.ms * 1e6) / frames).toFixed(0)}`);
  console.log(`GC runs during the 3 timed passes (${3 * frames} frames): ${gcRuns}`);
  console.log(`peak RSS (incl. ${((frames * (FRAME_STRIDE + 19)) / 1048576).toFixed(0)} MiB of frame batches in memory): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
