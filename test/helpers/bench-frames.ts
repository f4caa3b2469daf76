/** Candump logs as FrameBatches held in memory, for benchmarks that time what comes after parsing. */
import { readFileSync } from 'node:fs';
import { createFrameBatch, FRAME_STRIDE, type FrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';

/** A copy holding exactly the frames in use (a parser or driver reuses its batch). */
export function copyFrameBatch(source: FrameBatch): FrameBatch {
  const n = source.count;
  const copy = createFrameBatch(n, source.busNames);
  copy.count = n;
  copy.bus.set(source.bus.subarray(0, n));
  copy.id.set(source.id.subarray(0, n));
  copy.len.set(source.len.subarray(0, n));
  copy.flags.set(source.flags.subarray(0, n));
  copy.timeUs.set(source.timeUs.subarray(0, n));
  copy.data.set(source.data.subarray(0, n * FRAME_STRIDE));
  return copy;
}

/** The whole log parsed into batches of at most `size` frames, with its frame count and time span. */
export function logBatches(path: string, size: number): { batches: FrameBatch[]; frames: number; spanUs: number } {
  const batches: FrameBatch[] = [];
  const parser = new CandumpParser(createFrameBatch(size), (b) => batches.push(copyFrameBatch(b)));
  parser.push(readFileSync(path));
  parser.end();
  const last = batches[batches.length - 1];
  return {
    batches,
    frames: batches.reduce((sum, b) => sum + b.count, 0),
    spanUs: last.timeUs[last.count - 1] - batches[0].timeUs[0],
  };
}
