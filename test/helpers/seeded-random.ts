/** Deterministic pseudo-random numbers for generated test data (mulberry32), so fixtures are reproducible. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Normal with the given standard deviation, clamped to ±3 sigma (generated noise stays bounded). */
  gaussian(sigma: number): number;
  int(min: number, maxInclusive: number): number;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    gaussian(sigma) {
      const u = Math.max(next(), 1e-12);
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
      return Math.max(-3, Math.min(3, z)) * sigma;
    },
    int(min, maxInclusive) {
      return min + Math.floor(next() * (maxInclusive - min + 1));
    },
  };
}
