/**
 * Reconnect delays: exponential growth from `initialMs` up to `maxMs`, each delay randomised by
 * `jitter` (0.5: between 50 % and 100 % of the exponential value), so that a fleet cut off by the
 * same broker restart does not reconnect in lock step.
 */
export interface BackoffOptions {
  /** First delay. Default 1000 ms. */
  initialMs?: number;
  /** Cap. Default 60,000 ms. */
  maxMs?: number;
  /** Fraction of each delay that is random, 0..1. Default 0.5. */
  jitter?: number;
  /** Random source in [0, 1) (tests pass a fixed one). Default Math.random. */
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  /** Delays handed out since the last reset. */
  attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = Math.max(1, options.initialMs ?? 1000);
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? 60_000);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
  }

  /** The next delay in ms. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(ceiling * (1 - this.jitter + this.jitter * this.random()));
  }

  /** After a successful connection: the next delay starts from `initialMs` again. */
  reset(): void {
    this.attempts = 0;
  }
}
