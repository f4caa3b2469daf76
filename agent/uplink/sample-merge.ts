/**
 * Merges stored sample chunks (SampleBatch bytes, wire/sample-chunk.ts) of one stream and
 * priority whose sequence ranges follow each other into one SampleBatch covering the whole range.
 *
 * The merged batch has one column per signal (ascending signal id, each column's samples in chunk
 * order), so a periodic signal costs its two bytes per sample instead of a column header and an
 * absolute first value per chunk. Its samples are numbered in the merged column order: the batch
 * covers exactly the chunks' seq range, but a sample's seq inside that range can differ from the one
 * it had in its chunk (the range, not the position, identifies what was delivered).
 */
import { decodeSampleChunk, SampleChunkEncoder, type DecodedSampleChunk, type SampleColumns } from '../../wire/sample-chunk.js';

export interface MergedChunk {
  bytes: Uint8Array;
  firstSeq: number;
  count: number;
}

/**
 * Decodes `chunks` (in seq order) and re-encodes runs of them as merged SampleBatches: a new run
 * starts where the signal table changes (a configuration change between commits). Throws
 * SampleChunkError for a malformed chunk, RangeError when two chunks are not contiguous or differ
 * in priority.
 */
export function mergeSampleChunks(chunks: readonly Uint8Array[], encoder: SampleChunkEncoder): MergedChunk[] {
  const decoded = chunks.map((bytes) => decodeSampleChunk(bytes));
  for (let i = 1; i < decoded.length; i++) {
    const prev = decoded[i - 1].header;
    const next = decoded[i].header;
    const expected = prev.firstSeq + decoded[i - 1].columns.sampleCount;
    if (next.firstSeq !== expected) throw new RangeError(`chunk ${i} starts at seq ${next.firstSeq}, not ${expected}`);
    if (next.priority !== prev.priority) throw new RangeError(`chunk ${i} has priority ${next.priority}, not ${prev.priority}`);
  }
  const out: MergedChunk[] = [];
  let start = 0;
  for (let i = 1; i <= decoded.length; i++) {
    if (i < decoded.length && (decoded[i].header.signalTable ?? 0) === (decoded[start].header.signalTable ?? 0)) continue;
    const run = decoded.slice(start, i);
    const columns = concatColumns(run);
    const header = { ...run[0].header };
    out.push({ bytes: run.length === 1 ? chunks[start] : encoder.encodeColumns(header, columns, 0, columns.sampleCount), firstSeq: header.firstSeq, count: columns.sampleCount });
    start = i;
  }
  return out;
}

/** The samples of every chunk, one column per signal id (ascending), chunk order within a column. */
function concatColumns(run: readonly DecodedSampleChunk[]): SampleColumns {
  const perSignal = new Map<number, number>();
  for (const { columns: c } of run) {
    let start = 0;
    for (let k = 0; k < c.columnCount; k++) {
      perSignal.set(c.columnSignal[k], (perSignal.get(c.columnSignal[k]) ?? 0) + c.columnEnd[k] - start);
      start = c.columnEnd[k];
    }
  }
  const signals = [...perSignal.keys()].sort((a, b) => a - b);
  const total = signals.reduce((n, s) => n + perSignal.get(s)!, 0);
  const merged: SampleColumns = {
    sampleCount: total,
    columnCount: signals.length,
    columnSignal: Uint32Array.from(signals),
    columnEnd: new Uint32Array(signals.length),
    timeMs: new Float64Array(total),
    raw: new Float64Array(total),
  };
  // Write cursor per signal, at the start of its merged column.
  const cursor = new Map<number, number>();
  let at = 0;
  signals.forEach((s, k) => {
    cursor.set(s, at);
    at += perSignal.get(s)!;
    merged.columnEnd[k] = at;
  });
  for (const { columns: c } of run) {
    let start = 0;
    for (let k = 0; k < c.columnCount; k++) {
      const end = c.columnEnd[k];
      const to = cursor.get(c.columnSignal[k])!;
      merged.timeMs.set(c.timeMs.subarray(start, end), to);
      merged.raw.set(c.raw.subarray(start, end), to);
      cursor.set(c.columnSignal[k], to + end - start);
      start = end;
    }
  }
  return merged;
}
