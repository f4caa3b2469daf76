/**
 * Which sequence numbers of one stream (one vehicle's data or events) have arrived: a sorted list of
 * disjoint half-open ranges [start, end). Reports, per arrival, how many numbers were already there
 * (duplicates: at-least-once delivery re-sends after a lost PUBACK) and whether it jumped past the
 * highest number seen (a gap, possibly filled later by a late or re-sent message).
 */
export interface Arrival {
  /** Numbers of this arrival received before. */
  duplicates: number;
  /** [from, to] (inclusive) missing between the highest number seen before and this arrival, if any. */
  gap?: [number, number];
}

export interface SequenceSummary {
  /** Distinct numbers received. */
  received: number;
  /** Numbers received more than once (counted once per extra copy). */
  duplicates: number;
  first: number;
  last: number;
  /** Missing ranges [from, to] (inclusive) between first and last. */
  holes: [number, number][];
}

export class SequenceTracker {
  /** Flat [start0, end0, start1, end1, ...], sorted, disjoint and not touching. */
  private ranges: number[] = [];
  private received = 0;
  private duplicates = 0;

  /** Records numbers first .. first + count - 1. */
  add(first: number, count: number): Arrival {
    if (count <= 0) return { duplicates: 0 };
    const end = first + count;
    const r = this.ranges;
    const highest = r.length > 0 ? r[r.length - 1] : undefined;
    // Fast path: appending at or after the end.
    if (highest === undefined || first >= highest) {
      if (highest !== undefined && first === highest) r[r.length - 1] = end;
      else r.push(first, end);
      this.received += count;
      return highest !== undefined && first > highest ? { duplicates: 0, gap: [highest, first - 1] } : { duplicates: 0 };
    }
    // General case: find the ranges overlapping or touching [first, end), count overlap, merge.
    let i = 0;
    while (i < r.length && r[i + 1] < first) i += 2;
    let j = i;
    let overlap = 0;
    let start = first;
    let stop = end;
    while (j < r.length && r[j] <= end) {
      overlap += Math.max(0, Math.min(end, r[j + 1]) - Math.max(first, r[j]));
      start = Math.min(start, r[j]);
      stop = Math.max(stop, r[j + 1]);
      j += 2;
    }
    r.splice(i, j - i, start, stop);
    this.received += count - overlap;
    this.duplicates += overlap;
    return { duplicates: overlap };
  }

  summary(): SequenceSummary {
    const r = this.ranges;
    const holes: [number, number][] = [];
    for (let i = 2; i < r.length; i += 2) holes.push([r[i - 1], r[i] - 1]);
    return {
      received: this.received,
      duplicates: this.duplicates,
      first: r.length > 0 ? r[0] : 0,
      last: r.length > 0 ? r[r.length - 1] - 1 : 0,
      holes,
    };
  }
}
