/**
 * Samples of one (stream, priority) waiting for the next commit, in arrival order, as a struct of
 * arrays (no per-sample objects). At commit the store encodes them as one chunk row and clears them.
 */
export class PendingSamples {
  count = 0;
  /** Time of the first sample since the last clear, microseconds (the chunk row's time). */
  firstTimeUs = 0;
  signal: Uint32Array;
  timeMs: Float64Array;
  raw: Float64Array;

  constructor(capacity = 1024) {
    this.signal = new Uint32Array(capacity);
    this.timeMs = new Float64Array(capacity);
    this.raw = new Float64Array(capacity);
  }

  push(signal: number, timeUs: number, raw: number): void {
    const k = this.count;
    if (k === this.signal.length) this.grow();
    if (k === 0) this.firstTimeUs = timeUs;
    this.signal[k] = signal;
    this.timeMs[k] = Math.floor(timeUs / 1000);
    this.raw[k] = raw;
    this.count = k + 1;
  }

  clear(): void {
    this.count = 0;
  }

  private grow(): void {
    const size = this.signal.length * 2;
    const signal = new Uint32Array(size);
    const timeMs = new Float64Array(size);
    const raw = new Float64Array(size);
    signal.set(this.signal);
    timeMs.set(this.timeMs);
    raw.set(this.raw);
    this.signal = signal;
    this.timeMs = timeMs;
    this.raw = raw;
  }
}
