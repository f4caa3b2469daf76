/**
 * Codec for a chunk of samples in the wire's column form: the bytes of a `roadlink.v1.SampleBatch`
 * (proto/roadlink/v1/samples.proto). The store keeps a chunk as one row and the uplink sends it as-is.
 *
 * Layout reminder: one SignalColumn per signal; times in ms as delta-of-deltas
 * (t[0] = base + dod[0], d[0] = dod[0], d[i] = d[i-1] + dod[i], t[i] = t[i-1] + d[i]); values as
 * integers on the signal's grid, delta coded; both packed zigzag varints (sint64).
 *
 * Sequence numbers inside a chunk: the chunk covers `first_seq .. first_seq + sample_count - 1`, and
 * sample k of that range is the k-th sample in column order (column 0 first, then column 1, ...).
 * This is what lets a chunk be split into contiguous sub-ranges (`splitSampleChunk`).
 *
 * Performance: message framing goes through protobufjs's Writer/Reader; the packed columns are
 * written value by value with Writer.sint32 (same bytes as sint64 for |v| < 2^31, no allocation) and
 * read with a local varint loop (Reader.sint64 would build a Long per value). No per-sample objects.
 *
 * Exactness: raw values and times are JS numbers; they round-trip exactly while |raw| <= 2^52
 * (`MAX_RAW`, so that every delta stays a safe integer). Callers reject samples outside that range.
 */
import protobuf from 'protobufjs/minimal.js';

const { Writer, Reader } = protobuf;
type Writer = protobuf.Writer;

/** Largest |raw| a chunk carries exactly (deltas of two such values stay below 2^53). */
export const MAX_RAW = 2 ** 52;

/** SampleBatch header fields (everything but the columns). */
export interface SampleChunkHeader {
  firstSeq: number;
  priority: number;
  /** Only the encoder's choice; decoders need it to rebuild times. */
  baseTimeMs: number;
  rule: string;
  /** Checkin.signal_table the signal ids (and grids) refer to; 0 = not stated. */
  signalTable?: number;
}

/**
 * Samples grouped by column, in sequence order. Column c holds samples
 * `[c === 0 ? 0 : columnEnd[c - 1], columnEnd[c])` of `timeMs` / `raw`.
 */
export interface SampleColumns {
  sampleCount: number;
  columnCount: number;
  columnSignal: Uint32Array;
  columnEnd: Uint32Array;
  timeMs: Float64Array;
  raw: Float64Array;
}

export interface DecodedSampleChunk {
  header: SampleChunkHeader;
  columns: SampleColumns;
}

/** Thrown for bytes that are not a well-formed SampleBatch. */
export class SampleChunkError extends Error {
  override name = 'SampleChunkError';
}

// Field tags: (field number << 3) | wire type.
const TAG_FIRST_SEQ = (1 << 3) | 0;
const TAG_SAMPLE_COUNT = (2 << 3) | 0;
const TAG_BASE_TIME = (3 << 3) | 0;
const TAG_PRIORITY = (4 << 3) | 0;
const TAG_RULE = (5 << 3) | 2;
const TAG_COLUMN = (6 << 3) | 2;
const TAG_SIGNAL_TABLE = (7 << 3) | 5;
const TAG_SIGNAL_ID = (1 << 3) | 0;
const TAG_TIME_DOD = (2 << 3) | 2;
const TAG_VALUE_DELTA = (3 << 3) | 2;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function writeSint(writer: Writer, v: number): void {
  if (v >= INT32_MIN && v <= INT32_MAX) writer.sint32(v);
  else writer.sint64(v);
}

/** Grows a typed array to at least `min` elements, keeping its content. */
function grown<T extends Float64Array | Uint32Array | Int32Array>(a: T, min: number): T {
  if (a.length >= min) return a;
  let size = Math.max(16, a.length);
  while (size < min) size *= 2;
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/**
 * Encodes chunks. Holds reusable scratch space, so one encoder per thread of work (the store has one);
 * every returned Uint8Array is a fresh copy the caller may keep.
 */
export class SampleChunkEncoder {
  private readonly writer: Writer = Writer.create();
  // Grouping scratch (encodeArrivals): slot per signal id, then per-slot counters.
  private slotOfSignal = new Int32Array(256).fill(-1);
  private slotSignal = new Uint32Array(64);
  private slotCursor = new Uint32Array(64);
  private readonly grouped: SampleColumns = {
    sampleCount: 0,
    columnCount: 0,
    columnSignal: new Uint32Array(64),
    columnEnd: new Uint32Array(64),
    timeMs: new Float64Array(1024),
    raw: new Float64Array(1024),
  };

  /**
   * Encodes samples given in arrival order (`signal[i]`, `timeMs[i]`, `raw[i]` for i < count):
   * groups them into one column per signal (columns by ascending signal id, arrival order kept
   * within a column). `baseTimeMs` in the header is ignored and chosen here.
   */
  encodeArrivals(
    header: Omit<SampleChunkHeader, 'baseTimeMs'>,
    count: number,
    signal: Uint32Array,
    timeMs: Float64Array,
    raw: Float64Array,
  ): Uint8Array {
    const cols = this.groupBySignal(count, signal, timeMs, raw);
    return this.encodeColumns({ ...header, baseTimeMs: 0 }, cols, 0, count);
  }

  /**
   * Encodes samples `[from, to)` (sequence order) of `cols` as one SampleBatch whose first_seq is
   * `header.firstSeq` (the caller passes the seq of sample `from`). The base time is chosen here.
   */
  encodeColumns(header: SampleChunkHeader, cols: SampleColumns, from: number, to: number): Uint8Array {
    const w = this.writer;
    w.reset();
    if (from < 0 || to > cols.sampleCount || from > to) {
      throw new RangeError(`sample range [${from}, ${to}) outside 0..${cols.sampleCount}`);
    }
    // Base: earliest first time among the included column pieces, so that every dod[0] is >= 0.
    let base = Infinity;
    let start = 0;
    for (let c = 0; c < cols.columnCount; c++) {
      const end = cols.columnEnd[c];
      const lo = Math.max(start, from);
      if (lo < Math.min(end, to) && cols.timeMs[lo] < base) base = cols.timeMs[lo];
      start = end;
    }
    if (base === Infinity) base = 0;

    if (header.firstSeq !== 0) w.uint32(TAG_FIRST_SEQ).uint64(header.firstSeq);
    if (to - from !== 0) w.uint32(TAG_SAMPLE_COUNT).uint32(to - from);
    if (base !== 0) w.uint32(TAG_BASE_TIME).int64(base);
    if (header.priority !== 0) w.uint32(TAG_PRIORITY).uint32(header.priority);
    if (header.rule !== '') w.uint32(TAG_RULE).string(header.rule);

    start = 0;
    for (let c = 0; c < cols.columnCount; c++) {
      const end = cols.columnEnd[c];
      const lo = Math.max(start, from);
      const hi = Math.min(end, to);
      start = end;
      if (lo >= hi) continue;
      w.uint32(TAG_COLUMN).fork();
      if (cols.columnSignal[c] !== 0) w.uint32(TAG_SIGNAL_ID).uint32(cols.columnSignal[c]);

      const time = cols.timeMs;
      w.uint32(TAG_TIME_DOD).fork();
      let prevTime = base;
      let prevDelta = 0;
      for (let i = lo; i < hi; i++) {
        const delta = time[i] - prevTime;
        writeSint(w, delta - prevDelta);
        prevDelta = delta;
        prevTime = time[i];
      }
      w.ldelim();

      const raw = cols.raw;
      w.uint32(TAG_VALUE_DELTA).fork();
      let prevRaw = 0;
      for (let i = lo; i < hi; i++) {
        writeSint(w, raw[i] - prevRaw);
        prevRaw = raw[i];
      }
      w.ldelim();
      w.ldelim();
    }
    if (header.signalTable) w.uint32(TAG_SIGNAL_TABLE).fixed32(header.signalTable);
    return w.finish();
  }

  /** Stable counting sort of arrival-order samples into columns (one per signal, by signal id). */
  private groupBySignal(count: number, signal: Uint32Array, timeMs: Float64Array, raw: Float64Array): SampleColumns {
    const g = this.grouped;
    // 1. Distinct signals.
    let slots = 0;
    for (let i = 0; i < count; i++) {
      const s = signal[i];
      if (s >= this.slotOfSignal.length) {
        const old = this.slotOfSignal.length;
        this.slotOfSignal = grown(this.slotOfSignal, s + 1);
        this.slotOfSignal.fill(-1, old);
      }
      if (this.slotOfSignal[s] === -1) {
        this.slotSignal = grown(this.slotSignal, slots + 1);
        this.slotSignal[slots] = s;
        this.slotOfSignal[s] = slots++;
      }
    }
    // 2. Columns by ascending signal id; slot -> column through the same table.
    g.columnSignal = grown(g.columnSignal, slots);
    g.columnEnd = grown(g.columnEnd, slots);
    this.slotCursor = grown(this.slotCursor, slots);
    const sorted = g.columnSignal.subarray(0, slots);
    sorted.set(this.slotSignal.subarray(0, slots));
    sorted.sort();
    for (let c = 0; c < slots; c++) this.slotOfSignal[sorted[c]] = c;
    // 3. Column sizes, then cursors at each column's start.
    const cursor = this.slotCursor;
    cursor.fill(0, 0, slots);
    for (let i = 0; i < count; i++) cursor[this.slotOfSignal[signal[i]]]++;
    let at = 0;
    for (let c = 0; c < slots; c++) {
      const n = cursor[c];
      cursor[c] = at;
      at += n;
      g.columnEnd[c] = at;
    }
    // 4. Scatter.
    g.timeMs = grown(g.timeMs, count);
    g.raw = grown(g.raw, count);
    for (let i = 0; i < count; i++) {
      const k = cursor[this.slotOfSignal[signal[i]]]++;
      g.timeMs[k] = timeMs[i];
      g.raw[k] = raw[i];
    }
    for (let c = 0; c < slots; c++) this.slotOfSignal[sorted[c]] = -1;
    g.columnCount = slots;
    g.sampleCount = count;
    return g;
  }
}

// --- decoding -------------------------------------------------------------------------------------

/** Reads one zigzag varint at `reader.pos` (bounded by `end`), exact for |v| < 2^53. */
function readSint(reader: protobuf.Reader, end: number): number {
  const buf = reader.buf;
  let pos = reader.pos;
  // Fast path: up to 4 bytes (28 bits).
  let lo = 0;
  let shift = 0;
  let b = 0;
  do {
    if (pos >= end) throw new SampleChunkError(`truncated varint at offset ${pos}`);
    b = buf[pos++];
    lo |= (b & 127) << shift;
    shift += 7;
  } while (b & 128 && shift < 28);
  if (!(b & 128)) {
    reader.pos = pos;
    return (lo >>> 1) ^ -(lo & 1);
  }
  // Slow path: 64-bit value as (lo, hi) 32-bit halves.
  let hi = 0;
  b = pos < end ? buf[pos++] : -1;
  if (b < 0) throw new SampleChunkError(`truncated varint at offset ${pos}`);
  lo = (lo | ((b & 127) << 28)) >>> 0;
  hi = (b & 127) >>> 4;
  shift = 3;
  while (b & 128) {
    if (pos >= end) throw new SampleChunkError(`truncated varint at offset ${pos}`);
    if (shift > 31) throw new SampleChunkError(`varint longer than 10 bytes at offset ${pos}`);
    b = buf[pos++];
    hi = (hi | ((b & 127) << shift)) >>> 0;
    shift += 7;
  }
  reader.pos = pos;
  // zigzag decode on the pair: v = (u >>> 1) ^ -(u & 1)
  // zigzag: v = (u >>> 1) ^ -(u & 1), i.e. u >>> 1 for even u and -(u >>> 1) - 1 for odd u.
  const half = (hi >>> 1) * 4294967296 + (((lo >>> 1) | (hi << 31)) >>> 0);
  return lo & 1 ? -half - 1 : half;
}

function readUint(reader: protobuf.Reader, end: number): number {
  const v = readSint(reader, end); // reuse the varint reader, then undo zigzag
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

interface ColumnSpan {
  signal: number;
  timeStart: number;
  timeEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** Number of varints in `[start, end)` (one packed field, or one unpacked value). */
function countPacked(reader: protobuf.Reader, start: number, end: number): number {
  const saved = reader.pos;
  reader.pos = start;
  let n = 0;
  while (reader.pos < end) {
    readSint(reader, end);
    n++;
  }
  reader.pos = saved;
  return n;
}

/**
 * Decodes SampleBatch bytes into columns (times in ms, integer values on the signal grid).
 * Accepts packed and unpacked repeated fields and skips unknown fields, as a protobuf parser must.
 * Throws SampleChunkError for malformed bytes or when the columns disagree with sample_count.
 */
export function decodeSampleChunk(bytes: Uint8Array): DecodedSampleChunk {
  const reader = Reader.create(bytes);
  const header: SampleChunkHeader = { firstSeq: 0, priority: 0, baseTimeMs: 0, rule: '', signalTable: 0 };
  let declaredCount = -1;
  const spans: ColumnSpan[] = [];
  // Pass 1: header fields and where each column's data lies (values of repeated fields may be
  // split over several packed/unpacked occurrences; we record each occurrence).
  const pieces: { column: number; field: 2 | 3; start: number; end: number }[] = [];
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      switch (tag) {
        case TAG_FIRST_SEQ: header.firstSeq = readUint(reader, reader.len); break;
        case TAG_SAMPLE_COUNT: declaredCount = reader.uint32(); break;
        case TAG_BASE_TIME: header.baseTimeMs = readInt64(reader); break;
        case TAG_PRIORITY: header.priority = reader.uint32(); break;
        case TAG_RULE: header.rule = reader.string(); break;
        case TAG_SIGNAL_TABLE: header.signalTable = reader.fixed32(); break;
        case TAG_COLUMN: {
          const len = reader.uint32();
          const end = reader.pos + len;
          if (end > reader.len) throw new SampleChunkError(`column at offset ${reader.pos} overruns the chunk`);
          const column = spans.length;
          spans.push({ signal: 0, timeStart: 0, timeEnd: 0, valueStart: 0, valueEnd: 0 });
          while (reader.pos < end) {
            const ctag = reader.uint32();
            const field = ctag >>> 3;
            const wire = ctag & 7;
            if (field === 1 && wire === 0) spans[column].signal = reader.uint32();
            else if ((field === 2 || field === 3) && wire === 2) {
              const n = reader.uint32();
              if (reader.pos + n > end) throw new SampleChunkError(`packed field overruns column at offset ${reader.pos}`);
              pieces.push({ column, field, start: reader.pos, end: reader.pos + n });
              reader.pos += n;
            } else if ((field === 2 || field === 3) && wire === 0) {
              const at = reader.pos;
              readSint(reader, end);
              pieces.push({ column, field, start: at, end: reader.pos });
            } else reader.skipType(wire);
          }
          if (reader.pos !== end) throw new SampleChunkError(`column ending at offset ${end} is malformed`);
          break;
        }
        default:
          reader.skipType(tag & 7);
      }
    }
  } catch (err) {
    if (err instanceof SampleChunkError) throw err;
    throw new SampleChunkError(`malformed SampleBatch: ${(err as Error).message}`);
  }

  // Pass 2: sizes, then values.
  const timeCount = new Uint32Array(spans.length);
  const valueCount = new Uint32Array(spans.length);
  for (const p of pieces) {
    const n = countPacked(reader, p.start, p.end);
    if (p.field === 2) timeCount[p.column] += n;
    else valueCount[p.column] += n;
  }
  let total = 0;
  for (let c = 0; c < spans.length; c++) {
    if (timeCount[c] !== valueCount[c]) {
      throw new SampleChunkError(`column ${c} (signal ${spans[c].signal}) has ${timeCount[c]} times but ${valueCount[c]} values`);
    }
    total += timeCount[c];
  }
  if (declaredCount >= 0 ? declaredCount !== total : total !== 0) {
    throw new SampleChunkError(`sample_count says ${Math.max(declaredCount, 0)} but the columns hold ${total} samples`);
  }
  const columns: SampleColumns = {
    sampleCount: total,
    columnCount: spans.length,
    columnSignal: new Uint32Array(spans.length),
    columnEnd: new Uint32Array(spans.length),
    timeMs: new Float64Array(total),
    raw: new Float64Array(total),
  };
  let at = 0;
  const timeAt = new Uint32Array(spans.length);
  const valueAt = new Uint32Array(spans.length);
  for (let c = 0; c < spans.length; c++) {
    columns.columnSignal[c] = spans[c].signal;
    timeAt[c] = valueAt[c] = at;
    at += timeCount[c];
    columns.columnEnd[c] = at;
  }
  // Raw deltas first (decoded in place into running values afterwards).
  for (const p of pieces) {
    reader.pos = p.start;
    const out = p.field === 2 ? columns.timeMs : columns.raw;
    const cursor = p.field === 2 ? timeAt : valueAt;
    let k = cursor[p.column];
    while (reader.pos < p.end) out[k++] = readSint(reader, p.end);
    cursor[p.column] = k;
  }
  let start = 0;
  for (let c = 0; c < spans.length; c++) {
    const end = columns.columnEnd[c];
    let time = header.baseTimeMs;
    let delta = 0;
    let raw = 0;
    for (let i = start; i < end; i++) {
      delta += columns.timeMs[i];
      time += delta;
      columns.timeMs[i] = time;
      raw += columns.raw[i];
      columns.raw[i] = raw;
    }
    start = end;
  }
  return { header, columns };
}

/** int64 (two's complement varint) as a number; exact for |v| < 2^53. */
function readInt64(reader: protobuf.Reader): number {
  const u = readUint(reader, reader.len);
  return u >= 2 ** 63 ? u - 2 ** 64 : u;
}

/**
 * Splits a chunk into chunks of at most `maxSamples` samples each, with contiguous sequence ranges
 * (the first covers first_seq.., the next continues where it stopped). Returns `[bytes]` unchanged
 * when it already fits.
 */
export function splitSampleChunk(bytes: Uint8Array, maxSamples: number, encoder = new SampleChunkEncoder()): Uint8Array[] {
  if (!(maxSamples >= 1)) throw new RangeError(`maxSamples must be >= 1, got ${maxSamples}`);
  const { header, columns } = decodeSampleChunk(bytes);
  if (columns.sampleCount <= maxSamples) return [bytes];
  const parts: Uint8Array[] = [];
  for (let from = 0; from < columns.sampleCount; from += maxSamples) {
    const to = Math.min(columns.sampleCount, from + maxSamples);
    parts.push(encoder.encodeColumns({ ...header, firstSeq: header.firstSeq + from }, columns, from, to));
  }
  return parts;
}
