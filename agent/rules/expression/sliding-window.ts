/**
 * min / max / mean of one signal over the last `durationUs`, in O(1) amortised per sample and per
 * query: a growable ring of samples plus two monotonic queues (of sample sequence numbers) for min and
 * max, and a running sum for the mean. A window holds the samples with time > now - duration.
 * The engine keeps one window per (signal, duration), shared by every expression that uses it.
 */
export class SlidingWindow {
  private times: Float64Array;
  private values: Float64Array;
  /** Sequence numbers: sample `seq` lives at `seq % capacity`; live samples are [tail, head). */
  private head = 0;
  private tail = 0;
  private minQueue: Float64Array;
  private minHead = 0;
  private minTail = 0;
  private maxQueue: Float64Array;
  private maxHead = 0;
  private maxTail = 0;
  private sum = 0;
  /** Removals since the sum was last recomputed (bounds floating-point drift). */
  private removals = 0;
  private latestUs = -Infinity;

  constructor(
    readonly durationUs: number,
    initialCapacity = 32,
  ) {
    this.times = new Float64Array(initialCapacity);
    this.values = new Float64Array(initialCapacity);
    this.minQueue = new Float64Array(initialCapacity);
    this.maxQueue = new Float64Array(initialCapacity);
  }

  /** Samples currently inside the window (after the last push/expiry). */
  get count(): number {
    return this.head - this.tail;
  }

  push(timeUs: number, value: number): void {
    if (value !== value) return; // an unknown value does not enter a window
    // Out-of-order samples are kept at the newest time seen, so that the ring stays sorted.
    if (timeUs < this.latestUs) timeUs = this.latestUs;
    this.latestUs = timeUs;
    this.expire(timeUs);
    if (this.head - this.tail === this.times.length) this.grow();
    const capacity = this.times.length;
    const seq = this.head++;
    this.times[seq % capacity] = timeUs;
    this.values[seq % capacity] = value;
    this.sum += value;
    while (this.minTail > this.minHead && this.values[this.minQueue[(this.minTail - 1) % capacity] % capacity] >= value) this.minTail--;
    this.minQueue[this.minTail++ % capacity] = seq;
    while (this.maxTail > this.maxHead && this.values[this.maxQueue[(this.maxTail - 1) % capacity] % capacity] <= value) this.maxTail--;
    this.maxQueue[this.maxTail++ % capacity] = seq;
  }

  /** Mean of the samples in (nowUs - duration, nowUs]; NaN when there are none. */
  mean(nowUs: number): number {
    this.expire(nowUs);
    const n = this.head - this.tail;
    return n === 0 ? NaN : this.sum / n;
  }

  min(nowUs: number): number {
    this.expire(nowUs);
    return this.minTail === this.minHead ? NaN : this.values[this.minQueue[this.minHead % this.times.length] % this.times.length];
  }

  max(nowUs: number): number {
    this.expire(nowUs);
    return this.maxTail === this.maxHead ? NaN : this.values[this.maxQueue[this.maxHead % this.times.length] % this.times.length];
  }

  private expire(nowUs: number): void {
    const capacity = this.times.length;
    const cutoff = nowUs - this.durationUs;
    while (this.tail < this.head && this.times[this.tail % capacity] <= cutoff) {
      this.sum -= this.values[this.tail % capacity];
      this.tail++;
      this.removals++;
    }
    while (this.minHead < this.minTail && this.minQueue[this.minHead % capacity] < this.tail) this.minHead++;
    while (this.maxHead < this.maxTail && this.maxQueue[this.maxHead % capacity] < this.tail) this.maxHead++;
    if (this.tail === this.head) {
      this.sum = 0;
      this.removals = 0;
    } else if (this.removals >= 65_536) {
      this.recomputeSum();
    }
  }

  private recomputeSum(): void {
    const capacity = this.times.length;
    let sum = 0;
    for (let seq = this.tail; seq < this.head; seq++) sum += this.values[seq % capacity];
    this.sum = sum;
    this.removals = 0;
  }

  /** Doubles the ring, keeping every sequence number at `seq % capacity`. */
  private grow(): void {
    const old = this.times.length;
    const capacity = old * 2;
    const times = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    for (let seq = this.tail; seq < this.head; seq++) {
      times[seq % capacity] = this.times[seq % old];
      values[seq % capacity] = this.values[seq % old];
    }
    this.times = times;
    this.values = values;
    this.minQueue = this.regrowQueue(this.minQueue, this.minHead, this.minTail, old, capacity);
    this.maxQueue = this.regrowQueue(this.maxQueue, this.maxHead, this.maxTail, old, capacity);
  }

  private regrowQueue(queue: Float64Array, head: number, tail: number, old: number, capacity: number): Float64Array {
    const fresh = new Float64Array(capacity);
    for (let k = head; k < tail; k++) fresh[k % capacity] = queue[k % old];
    return fresh;
  }
}
