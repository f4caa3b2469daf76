/** Wall-clock time in integer microseconds since the Unix epoch (sub-millisecond via performance.now()). */
export function wallClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
