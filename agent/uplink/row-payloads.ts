/**
 * Turns one stored row into the payloads to publish: the row's bytes (deflated when enabled), or,
 * when that exceeds the maximum payload size, a sample chunk split into contiguous sequence
 * sub-ranges (agent/store/sample-chunk.ts decodes and re-encodes it) until every part fits.
 * A record cannot be split: one over the limit is reported as oversize and not sent.
 */
import type { StoredRow } from '../store/store.js';
import { SampleChunkEncoder, splitSampleChunk } from '../store/sample-chunk.js';
import { pack, type PackedPayload } from './payload.js';

export interface RowPayloads {
  parts: PackedPayload[];
  /** Samples per part (sample rows), in part order. */
  counts: number[];
  /** A part is still over the limit (a record, or a single sample larger than the limit). */
  oversize: boolean;
}

export class RowPayloader {
  private readonly encoder = new SampleChunkEncoder();

  constructor(
    private readonly maxPayloadBytes: number,
    private readonly deflate: boolean,
  ) {}

  payloads(row: StoredRow): RowPayloads {
    const out: RowPayloads = { parts: [], counts: [], oversize: false };
    if (row.kind === 'samples') this.addSamples(row.bytes, row.count, out);
    else {
      const packed = pack(row.bytes, this.deflate);
      out.parts.push(packed);
      out.counts.push(0);
      out.oversize = packed.payload.length > this.maxPayloadBytes;
    }
    return out;
  }

  private addSamples(bytes: Uint8Array, count: number, out: RowPayloads): void {
    const packed = pack(bytes, this.deflate);
    if (packed.payload.length <= this.maxPayloadBytes || count <= 1) {
      out.parts.push(packed);
      out.counts.push(count);
      if (packed.payload.length > this.maxPayloadBytes) out.oversize = true;
      return;
    }
    // Split into as many parts as the size suggests; parts that still do not fit split again.
    const parts = Math.max(2, Math.ceil(packed.payload.length / this.maxPayloadBytes));
    const perPart = Math.ceil(count / parts);
    const pieces = splitSampleChunk(bytes, perPart, this.encoder);
    pieces.forEach((piece, i) => this.addSamples(piece, Math.min(perPart, count - i * perPart), out));
  }
}
