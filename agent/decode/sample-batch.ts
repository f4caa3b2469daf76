/**
 * Decoded signal values as they leave the decoder: a struct of arrays, reused from batch to batch.
 * Sample `k` is signal `signal[k]` (an index into the decoder's signal table) with physical value
 * `value[k]`, taken at `timeUs[k]` from frame `frame[k]` of the FrameBatch that was decoded.
 */
export interface SampleBatch {
  count: number;
  capacity: number;
  signal: Uint32Array;
  value: Float64Array;
  timeUs: Float64Array;
  frame: Uint32Array;
  /** Exact values of wide signals; other slots hold stale data. */
  wide: BigInt64Array;
}

export function createSampleBatch(capacity = 16384): SampleBatch {
  return {
    count: 0,
    capacity,
    signal: new Uint32Array(capacity),
    value: new Float64Array(capacity),
    timeUs: new Float64Array(capacity),
    frame: new Uint32Array(capacity),
    wide: new BigInt64Array(capacity),
  };
}

/** Grows a batch in place (the decoder calls this when a frame batch yields more samples than fit). */
export function growSampleBatch(batch: SampleBatch, minCapacity: number): void {
  let capacity = batch.capacity;
  while (capacity < minCapacity) capacity *= 2;
  if (capacity === batch.capacity) return;
  const copy = <T extends Uint32Array | Float64Array>(old: T, fresh: T): T => {
    fresh.set(old.subarray(0, batch.count));
    return fresh;
  };
  batch.signal = copy(batch.signal, new Uint32Array(capacity));
  batch.value = copy(batch.value, new Float64Array(capacity));
  batch.timeUs = copy(batch.timeUs, new Float64Array(capacity));
  batch.frame = copy(batch.frame, new Uint32Array(capacity));
  const wide = new BigInt64Array(capacity);
  wide.set(batch.wide.subarray(0, batch.count));
  batch.wide = wide;
  batch.capacity = capacity;
}
