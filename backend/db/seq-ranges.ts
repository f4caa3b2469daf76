/**
 * Sequence-number bookkeeping for dedupe, on half-open ranges [first, end): which part of an
 * arriving range is not stored yet, and the single range that replaces the stored ones it touches
 * (so each (vehicle, epoch, stream) keeps a short list of coalesced ranges: one, plus holes).
 */
export type SeqRange = readonly [first: number, end: number];

/** Parts of [first, end) that no stored range covers, ascending. `stored` must be sorted and disjoint. */
export function uncoveredParts(first: number, end: number, stored: readonly SeqRange[]): SeqRange[] {
  const parts: SeqRange[] = [];
  let at = first;
  for (const [a, b] of stored) {
    if (b <= at) continue;
    if (a >= end) break;
    if (a > at) parts.push([at, a]);
    at = Math.max(at, b);
    if (at >= end) break;
  }
  if (at < end) parts.push([at, end]);
  return parts;
}

/** Numbers of [first, end) already covered. */
export function coveredCount(first: number, end: number, stored: readonly SeqRange[]): number {
  return end - first - uncoveredParts(first, end, stored).reduce((n, [a, b]) => n + b - a, 0);
}

/** The union of [first, end) and the stored ranges overlapping or touching it (which it replaces). */
export function mergedRange(first: number, end: number, touching: readonly SeqRange[]): SeqRange {
  let a = first;
  let b = end;
  for (const [x, y] of touching) {
    a = Math.min(a, x);
    b = Math.max(b, y);
  }
  return [a, b];
}
