/**
 * Recent samples of the signals that need a look back in time (event pre/post-trigger windows, the
 * collision pre-crash window). One ring buffer per tracked signal, sized by seconds: a signal keeps at
 * least the longest retention anyone asked for with `retain()`. A ring grows (doubling) only while its
 * oldest sample is still inside the retention, up to `maxSamplesPerSignal`; after that it overwrites
 * the oldest sample and counts the loss in `dropped()`. `record()` allocates nothing once rings are warm.
 *
 * Signals are the vehicle-signal ids of the engine's signal table (0..signalCount-1).
 * Times are microseconds (the FrameBatch/SampleBatch convention).
 */

/** Samples of several signals between two times, one pair of arrays per signal. */
export interface SignalWindow {
  fromUs: number;
  toUs: number;
  /** The signals asked for, in the order asked. */
  signals: number[];
  /** `timeUs[k]` and `value[k]` hold the samples of `signals[k]`, oldest first. */
  timeUs: Float64Array[];
  value: Float64Array[];
}

export interface SignalHistoryOptions {
  /** Upper bound of one ring, in samples (default 65,536: 10.9 minutes at 100 Hz). */
  maxSamplesPerSignal?: number;
  /** Initial ring size in samples (default 64). */
  initialSamples?: number;
}

interface Ring {
  retainUs: number;
  timeUs: Float64Array;
  value: Float64Array;
  /** Index of the oldest sample. */
  head: number;
  size: number;
  dropped: number;
}

export class SignalHistory {
  private rings: (Ring | undefined)[];
  private readonly maxSamples: number;
  private readonly initialSamples: number;

  constructor(signalCount: number, options: SignalHistoryOptions = {}) {
    this.rings = new Array<Ring | undefined>(signalCount).fill(undefined);
    this.maxSamples = options.maxSamplesPerSignal ?? 65_536;
    this.initialSamples = Math.min(options.initialSamples ?? 64, this.maxSamples);
  }

  /** Number of signal ids this history accepts. */
  get signalCount(): number {
    return this.rings.length;
  }

  /** Accepts signal ids up to `signalCount - 1` (the signal table may grow, never shrink). */
  resize(signalCount: number): void {
    while (this.rings.length < signalCount) this.rings.push(undefined);
  }

  /** Keeps at least `seconds` of `signal` from now on (the longest request wins). */
  retain(signal: number, seconds: number): void {
    this.checkSignal(signal);
    const retainUs = Math.max(0, seconds) * 1e6;
    const ring = this.rings[signal];
    if (ring) {
      ring.retainUs = Math.max(ring.retainUs, retainUs);
      return;
    }
    this.rings[signal] = {
      retainUs,
      timeUs: new Float64Array(this.initialSamples),
      value: new Float64Array(this.initialSamples),
      head: 0,
      size: 0,
      dropped: 0,
    };
  }

  /** Stops keeping `signal` and frees its ring. */
  release(signal: number): void {
    this.checkSignal(signal);
    this.rings[signal] = undefined;
  }

  isTracked(signal: number): boolean {
    return this.rings[signal] !== undefined;
  }

  /** Seconds kept for `signal` (0 when not tracked). */
  retainedSeconds(signal: number): number {
    return (this.rings[signal]?.retainUs ?? 0) / 1e6;
  }

  /** Records one sample; a no-op for signals nobody asked to keep. Hot path. */
  record(signal: number, timeUs: number, value: number): void {
    const ring = this.rings[signal];
    if (ring === undefined) return;
    let capacity = ring.timeUs.length;
    if (ring.size === capacity) {
      const oldestUs = ring.timeUs[ring.head];
      if (timeUs - oldestUs <= ring.retainUs && capacity < this.maxSamples) {
        this.grow(ring, Math.min(capacity * 2, this.maxSamples));
        capacity = ring.timeUs.length;
      } else {
        // Overwrite the oldest sample: it is older than the retention, or the ring is at its bound.
        if (timeUs - oldestUs <= ring.retainUs) ring.dropped++;
        ring.head = ring.head + 1 === capacity ? 0 : ring.head + 1;
        ring.size--;
      }
    }
    let slot = ring.head + ring.size;
    if (slot >= capacity) slot -= capacity;
    ring.timeUs[slot] = timeUs;
    ring.value[slot] = value;
    ring.size++;
  }

  /** Samples of `signal` still held (inside or just past its retention). */
  count(signal: number): number {
    return this.rings[signal]?.size ?? 0;
  }

  /** Samples of `signal` lost while still inside the retention (the ring had reached its bound). */
  dropped(signal: number): number {
    return this.rings[signal]?.dropped ?? 0;
  }

  /**
   * The samples of `signals` with fromUs <= time <= toUs, oldest first (allocates: for triggers,
   * not for the per-sample path). A signal that is not tracked yields empty arrays.
   */
  window(signals: readonly number[], fromUs: number, toUs: number): SignalWindow {
    const timeUs: Float64Array[] = [];
    const value: Float64Array[] = [];
    for (const signal of signals) {
      const [times, values] = this.range(signal, fromUs, toUs);
      timeUs.push(times);
      value.push(values);
    }
    return { fromUs, toUs, signals: [...signals], timeUs, value };
  }

  /** Drops every sample (rings and retentions stay). */
  clear(): void {
    for (const ring of this.rings) {
      if (!ring) continue;
      ring.head = 0;
      ring.size = 0;
    }
  }

  private range(signal: number, fromUs: number, toUs: number): [Float64Array, Float64Array] {
    const ring = this.rings[signal];
    if (!ring || ring.size === 0) return [new Float64Array(0), new Float64Array(0)];
    const capacity = ring.timeUs.length;
    let n = 0;
    for (let k = 0, i = ring.head; k < ring.size; k++, i = i + 1 === capacity ? 0 : i + 1) {
      const t = ring.timeUs[i];
      if (t >= fromUs && t <= toUs) n++;
    }
    const times = new Float64Array(n);
    const values = new Float64Array(n);
    n = 0;
    for (let k = 0, i = ring.head; k < ring.size; k++, i = i + 1 === capacity ? 0 : i + 1) {
      const t = ring.timeUs[i];
      if (t >= fromUs && t <= toUs) {
        times[n] = t;
        values[n++] = ring.value[i];
      }
    }
    return [times, values];
  }

  private grow(ring: Ring, capacity: number): void {
    const times = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    const old = ring.timeUs.length;
    const firstPart = Math.min(ring.size, old - ring.head);
    times.set(ring.timeUs.subarray(ring.head, ring.head + firstPart), 0);
    values.set(ring.value.subarray(ring.head, ring.head + firstPart), 0);
    if (firstPart < ring.size) {
      times.set(ring.timeUs.subarray(0, ring.size - firstPart), firstPart);
      values.set(ring.value.subarray(0, ring.size - firstPart), firstPart);
    }
    ring.timeUs = times;
    ring.value = values;
    ring.head = 0;
  }

  private checkSignal(signal: number): void {
    if (!Number.isInteger(signal) || signal < 0 || signal >= this.rings.length) {
      throw new RangeError(`signal id ${signal} outside the signal table (0..${this.rings.length - 1})`);
    }
  }
}
