/**
 * Turns stored rows into the payloads to publish: one row's bytes (deflated when that pays), or
 * several contiguous sample rows merged into one SampleBatch (sample-merge.ts); a sample chunk that
 * exceeds the maximum payload size is split into contiguous sequence sub-ranges
 * (wire/sample-chunk.ts decodes and re-encodes it) until every part fits.
 * A record cannot be split: one over the limit is reported as oversize and not sent.
 */
import type { StoredRow } from '../store/store.js';
import { SampleChunkEncoder, splitSampleChunk } from '../../wire/sample-chunk.js';
import { pack, type PackedPayload } from '../../wire/payload.js';
import { mergeSampleChunks } from './sample-merge.js';

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

  /**
   * Sample rows of one stream and priority with contiguous seq ranges (in seq order) as merged
   * messages: one per run of rows with the same signal table, split further only when too large.
   * Throws SampleChunkError for a malformed row (the caller then sends the rows one by one).
   */
  merged(rows: readonly StoredRow[]): RowPayloads {
    if (rows.length === 1) return this.payloads(rows[0]);
    const out: RowPayloads = { parts: [], counts: [], oversize: false };
    for (const chunk of mergeSampleChunks(rows.map((r) => r.bytes), this.encoder)) this.addSamples(chunk.bytes, chunk.count, out);
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
