/**
 * The chunk codec (wire/sample-chunk.ts) against the proto's definition of SampleBatch:
 * round trips, cross-checks with the generated protobufjs code (an independent implementation of
 * the wire format), size of periodic samples, splitting, and malformed input.
 */
import { describe, expect, it } from 'vitest';
import { SampleBatch } from '../../proto/gen/roadlink.js';
import { decodeSampleChunk, MAX_RAW, SampleChunkEncoder, SampleChunkError, splitSampleChunk } from '../../wire/sample-chunk.js';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Arrivals {
  count: number;
  signal: Uint32Array;
  timeMs: Float64Array;
  raw: Float64Array;
}

/** Random samples: some signals, irregular (even backwards) times, physical values put on a grid. */
function randomArrivals(seed: number, count: number): Arrivals {
  const rnd = random(seed);
  const signals = [0, 1, 7, 300, 65_535, 1_000_000].slice(0, 2 + Math.floor(rnd() * 5));
  const a: Arrivals = { count, signal: new Uint32Array(count), timeMs: new Float64Array(count), raw: new Float64Array(count) };
  let t = 1_700_000_000_000 + Math.floor(rnd() * 1e6);
  for (let i = 0; i < count; i++) {
    const s = signals[Math.floor(rnd() * signals.length)];
    t += Math.floor(rnd() * 40) - (rnd() < 0.05 ? 60 : 0);
    const scale = [0.01, 0.5, 1, 0.125][s % 4];
    const offset = s % 2 ? -40 : 0;
    const value = (rnd() - 0.5) * 2000;
    a.signal[i] = s;
    a.timeMs[i] = t;
    a.raw[i] = Math.round((value - offset) / scale) + 0; // + 0: no -0, which toEqual tells apart
  }
  return a;
}

/** What a chunk must contain: per signal (ascending), its samples in arrival order. */
function expectedColumns(a: Arrivals): [number, number[], number[]][] {
  const bySignal = new Map<number, [number[], number[]]>();
  for (let i = 0; i < a.count; i++) {
    const col = bySignal.get(a.signal[i]) ?? [[], []];
    col[0].push(a.timeMs[i]);
    col[1].push(a.raw[i]);
    bySignal.set(a.signal[i], col);
  }
  return [...bySignal.entries()].sort((x, y) => x[0] - y[0]).map(([s, [t, r]]) => [s, t, r]);
}

function decodedColumns(bytes: Uint8Array): [number, number[], number[]][] {
  const { columns } = decodeSampleChunk(bytes);
  const out: [number, number[], number[]][] = [];
  let start = 0;
  for (let c = 0; c < columns.columnCount; c++) {
    const end = columns.columnEnd[c];
    out.push([columns.columnSignal[c], [...columns.timeMs.subarray(start, end)], [...columns.raw.subarray(start, end)]]);
    start = end;
  }
  return out;
}

/** Times and values rebuilt from the generated decoder's raw fields, following the .proto comment literally. */
function columnsViaGenerated(bytes: Uint8Array): [number, number[], number[]][] {
  const batch = SampleBatch.decode(bytes);
  return batch.columns.map((col) => {
    const times: number[] = [];
    const values: number[] = [];
    let t = Number(batch.baseTimeMs);
    let d = 0;
    let raw = 0;
    const dods = (col.timeDod ?? []).map(Number);
    dods.forEach((dod, i) => {
      if (i === 0) {
        t += dod;
        d = dod;
      } else {
        d += dod;
        t += d;
      }
      raw += Number(col.valueDelta![i]);
      times.push(t);
      values.push(raw);
    });
    return [col.signalId ?? 0, times, values];
  });
}

describe('sample chunk codec', () => {
  it('round-trips random signals, irregular times and negative values on fine grids', () => {
    const encoder = new SampleChunkEncoder();
    for (let seed = 1; seed <= 30; seed++) {
      const a = randomArrivals(seed, 1 + Math.floor(random(seed * 7)() * 3000));
      const bytes = encoder.encodeArrivals({ firstSeq: seed * 1000, priority: 2, rule: seed % 2 ? 'r1' : '', signalTable: seed }, a.count, a.signal, a.timeMs, a.raw);
      const { header, columns } = decodeSampleChunk(bytes);
      expect(header).toMatchObject({ firstSeq: seed * 1000, priority: 2, rule: seed % 2 ? 'r1' : '', signalTable: seed });
      expect(columns.sampleCount).toBe(a.count);
      expect(decodedColumns(bytes)).toEqual(expectedColumns(a));
    }
  });

  it('is read the same by the generated protobufjs decoder', () => {
    const encoder = new SampleChunkEncoder();
    for (let seed = 100; seed < 110; seed++) {
      const a = randomArrivals(seed, 500);
      const bytes = encoder.encodeArrivals({ firstSeq: 2 ** 40 + seed, priority: 4, rule: 'x' }, a.count, a.signal, a.timeMs, a.raw);
      const batch = SampleBatch.decode(bytes);
      expect(Number(batch.firstSeq)).toBe(2 ** 40 + seed);
      expect(batch.sampleCount).toBe(500);
      expect(batch.priority).toBe(4);
      expect(columnsViaGenerated(bytes)).toEqual(expectedColumns(a));
    }
  });

  it('decodes what the generated encoder writes, including unpacked fields and unknown fields', () => {
    const generated = SampleBatch.encode({
      firstSeq: 9,
      sampleCount: 4,
      baseTimeMs: 1_000,
      priority: 3,
      columns: [
        { signalId: 5, timeDod: [10, 5, 0], valueDelta: [-3, 2, 2] },
        { signalId: 0, timeDod: [0], valueDelta: [2 ** 40] },
      ],
      signalTable: 0xdeadbeef,
    }).finish();
    const { header, columns } = decodeSampleChunk(generated);
    expect(header).toMatchObject({ firstSeq: 9, priority: 3, baseTimeMs: 1_000, signalTable: 0xdeadbeef });
    expect([...columns.columnSignal]).toEqual([5, 0]);
    expect([...columns.timeMs]).toEqual([1_010, 1_025, 1_040, 1_000]);
    expect([...columns.raw]).toEqual([-3, -1, 1, 2 ** 40]);
    // Hand-written: sample_count 2, one column with unpacked time_dod (field 2, varint) and value_delta,
    // then an unknown field 15 (varint) - a parser must accept both.
    const unpacked = Uint8Array.from([0x10, 2, 0x32, 10, 0x08, 1, 0x10, 4, 0x10, 2, 0x18, 3, 0x18, 1, 0x78, 5]);
    const d = decodeSampleChunk(unpacked);
    expect([...d.columns.timeMs]).toEqual([2, 5]);
    expect([...d.columns.raw]).toEqual([-2, -3]);
  });

  it('keeps 64-bit values exact up to 2^52 in both directions', () => {
    const signal = Uint32Array.from([1, 1, 1, 1]);
    const timeMs = Float64Array.from([1_700_000_000_000, 1_700_000_000_001, 1_600_000_000_000, 1_700_000_000_000]);
    const raw = Float64Array.from([MAX_RAW, -MAX_RAW, 0, -1]);
    const bytes = new SampleChunkEncoder().encodeArrivals({ firstSeq: 1, priority: 1, rule: '' }, 4, signal, timeMs, raw);
    const { columns } = decodeSampleChunk(bytes);
    expect([...columns.raw]).toEqual([...raw]);
    expect([...columns.timeMs]).toEqual([...timeMs]);
    expect(columnsViaGenerated(bytes)[0][2]).toEqual([...raw]);
  });

  it('costs about 2 bytes per sample for a periodic signal whose value does not change', () => {
    const n = 1000;
    const signal = new Uint32Array(n).fill(12);
    const timeMs = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 100);
    const raw = new Float64Array(n).fill(4321);
    const bytes = new SampleChunkEncoder().encodeArrivals({ firstSeq: 123_456, priority: 2, rule: '' }, n, signal, timeMs, raw);
    const perSample = bytes.length / n;
    expect(perSample).toBeGreaterThanOrEqual(2);
    expect(perSample).toBeLessThan(2.05);
  });

  it('splits a chunk into contiguous sequence ranges that together hold every sample', () => {
    const a = randomArrivals(77, 1000);
    const encoder = new SampleChunkEncoder();
    const whole = encoder.encodeArrivals({ firstSeq: 5000, priority: 2, rule: 'r', signalTable: 3 }, a.count, a.signal, a.timeMs, a.raw);
    const parts = splitSampleChunk(whole, 300);
    expect(parts).toHaveLength(4);
    let nextSeq = 5000;
    const seen = new Map<number, [number[], number[]]>();
    for (const part of parts) {
      const { header, columns } = decodeSampleChunk(part);
      expect(header.firstSeq).toBe(nextSeq);
      expect(header.signalTable).toBe(3);
      nextSeq += columns.sampleCount;
      for (const [s, t, r] of decodedColumns(part)) {
        const col = seen.get(s) ?? [[], []];
        col[0].push(...t);
        col[1].push(...r);
        seen.set(s, col);
      }
    }
    expect(nextSeq).toBe(5000 + a.count);
    expect([...seen.entries()].sort((x, y) => x[0] - y[0]).map(([s, [t, r]]) => [s, t, r])).toEqual(expectedColumns(a));
    expect(splitSampleChunk(whole, 1000)).toEqual([whole]);
  });

  it('rejects malformed bytes with a SampleChunkError saying what is wrong', () => {
    const a = randomArrivals(5, 50);
    const good = new SampleChunkEncoder().encodeArrivals({ firstSeq: 1, priority: 2, rule: '' }, a.count, a.signal, a.timeMs, a.raw);
    expect(() => decodeSampleChunk(good.subarray(0, good.length - 3))).toThrow(SampleChunkError);
    expect(() => decodeSampleChunk(Uint8Array.from([0x32, 0x7f, 1, 2]))).toThrow(/overruns/);
    // A column with two times but one value.
    expect(() => decodeSampleChunk(Uint8Array.from([0x10, 2, 0x32, 7, 0x12, 2, 0, 0, 0x1a, 1, 0]))).toThrow(/2 times but 1 values/);
    // sample_count disagreeing with the columns.
    expect(() => decodeSampleChunk(Uint8Array.from([0x10, 9, 0x32, 6, 0x12, 1, 0, 0x1a, 1, 0]))).toThrow(/sample_count says 9/);
    // Random garbage never escapes as anything but SampleChunkError.
    const rnd = random(9);
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      try {
        decodeSampleChunk(junk);
      } catch (err) {
        expect(err).toBeInstanceOf(SampleChunkError);
      }
    }
  });
});
