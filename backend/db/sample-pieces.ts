/**
 * How samples are stored: every column of an upload (one signal) is cut into pieces that lie within
 * one hour (CHUNK_SPAN_MS) and hold only sequence numbers not stored before; each piece becomes one
 * row of `sample_chunks`, its samples encoded as a one-column SampleBatch with the wire's own codec
 * (delta-of-delta times, delta-coded integer values, zigzag varints: about 2 bytes per sample).
 *
 * The hour bound is what makes a time-range read cheap: a piece starting before `from - 1 h` cannot
 * reach `from`, so a read scans the index (vehicle, signal, t_first) over [from - 1 h, to) only.
 */
import { decodeSampleChunk, SampleChunkEncoder, type SampleColumns } from '../../wire/sample-chunk.js';
import type { SeqRange } from './seq-ranges.js';

/** Longest time span of one stored piece; reads look this far back before `from`. */
export const CHUNK_SPAN_MS = 3_600_000;

export interface SamplePiece {
  /** Column (signal) index in the upload. */
  column: number;
  /** Sample index range [from, to) in the upload's sequence order. */
  from: number;
  to: number;
  tFirst: number;
  tLast: number;
}

/**
 * Pieces of `columns` covering the sample indexes in `keep` (ranges of indexes, ascending), each
 * within one column and one CHUNK_SPAN_MS bucket.
 */
export function samplePieces(columns: SampleColumns, keep: readonly SeqRange[]): SamplePiece[] {
  const pieces: SamplePiece[] = [];
  let columnStart = 0;
  for (let c = 0; c < columns.columnCount; c++) {
    const columnEnd = columns.columnEnd[c];
    for (const [a, b] of keep) {
      const from = Math.max(a, columnStart);
      const to = Math.min(b, columnEnd);
      if (from >= to) continue;
      let start = from;
      let bucket = Math.floor(columns.timeMs[from] / CHUNK_SPAN_MS);
      let tFirst = columns.timeMs[from];
      let tLast = tFirst;
      for (let i = from + 1; i <= to; i++) {
        const t = i < to ? columns.timeMs[i] : NaN;
        const b2 = Math.floor(t / CHUNK_SPAN_MS);
        if (i === to || b2 !== bucket) {
          pieces.push({ column: c, from: start, to: i, tFirst, tLast });
          if (i === to) break;
          start = i;
          bucket = b2;
          tFirst = tLast = t;
        } else {
          if (t < tFirst) tFirst = t;
          if (t > tLast) tLast = t;
        }
      }
    }
    columnStart = columnEnd;
  }
  return pieces;
}

/** The bytes of one piece (a one-column SampleBatch). */
export function encodePiece(encoder: SampleChunkEncoder, columns: SampleColumns, piece: SamplePiece, firstSeq: number): Uint8Array {
  return encoder.encodeColumns({ firstSeq: firstSeq + piece.from, priority: 0, baseTimeMs: 0, rule: '' }, columns, piece.from, piece.to);
}

/** Appends the samples of stored pieces that fall in [fromMs, toMs) to `out` (physical values). */
export function appendPieceSamples(
  out: { timeMs: number[]; value: number[] },
  chunk: Uint8Array,
  scale: number,
  offset: number,
  fromMs: number,
  toMs: number,
): void {
  const { columns } = decodeSampleChunk(chunk);
  for (let i = 0; i < columns.sampleCount; i++) {
    const t = columns.timeMs[i];
    if (t >= fromMs && t < toMs) {
      out.timeMs.push(t);
      out.value.push(columns.raw[i] * scale + offset);
    }
  }
}
