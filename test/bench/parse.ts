/**
 * candump log parsing alone: text in memory → FrameBatches, fed in 64 KiB chunks as the replay
 * driver reads them. Input: the Kona log (shared corpus) repeated to at least 1,000,000 lines.
 */
import { readFileSync } from 'node:fs';
import { corpusFile } from '../helpers/corpus.js';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';

const TARGET_LINES = 1_000_000;
const CHUNK = 64 * 1024;

function parseOnce(text: Buffer): { lines: number; frames: number; badLines: number; ms: number; checksum: number } {
  const batch = createFrameBatch(1024);
  let checksum = 0;
  const parser = new CandumpParser(batch, (b) => {
    checksum = (checksum + b.count + b.id[b.count - 1]) | 0;
  });
  const start = process.hrtime.bigint();
  for (let offset = 0; offset < text.length; offset += CHUNK) parser.push(text.subarray(offset, offset + CHUNK));
  parser.end();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ...parser.stats, ms, checksum };
}

export async function run(): Promise<void> {
  const log = readFileSync(corpusFile('logs/eldominio/kona/turnonlog.log'));
  const linesPerCopy = log.reduce((n, c) => (c === 10 ? n + 1 : n), 0);
  const copies = Math.ceil(TARGET_LINES / linesPerCopy);
  const text = Buffer.concat(Array.from({ length: copies }, () => log));
  const rssBefore = process.memoryUsage().rss;

  parseOnce(text.subarray(0, 4 * 1024 * 1024)); // warm-up
  const runs = [parseOnce(text), parseOnce(text), parseOnce(text)];
  const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
  if (best.badLines !== 0 || best.lines !== copies * linesPerCopy) throw new Error(`unexpected parse result: ${JSON.stringify(best)}`);

  console.log(`input: Kona log x${copies} = ${best.lines} lines, ${(text.length / 1048576).toFixed(1)} MiB, ${CHUNK / 1024} KiB chunks`);
  console.log(`parse time (best of 3): ${best.ms.toFixed(0)} ms`);
  console.log(`lines/s: ${Math.round(best.lines / (best.ms / 1000)).toLocaleString('en-US')}`);
  console.log(`frames/s: ${Math.round(best.frames / (best.ms / 1000)).toLocaleString('en-US')}`);
  console.log(`throughput: ${(text.length / 1048576 / (best.ms / 1000)).toFixed(0)} MiB/s`);
  console.log(`RSS growth while parsing: ${((process.memoryUsage().rss - rssBefore) / 1048576).toFixed(1)} MiB`);
  console.log(`peak RSS (incl. ${(text.length / 1048576).toFixed(0)} MiB input in memory): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
