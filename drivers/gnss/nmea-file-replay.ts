/**
 * Replays an NMEA file with the timing of its own fixes (RMC/GGA UTC times), scaled by a speed factor.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { GnssFix } from './fix-assembler.js';
import type { GnssDriver, GnssDriverStats, GnssSink } from './gnss-driver.js';
import { NmeaReader } from './nmea-reader.js';

export interface NmeaReplayOptions {
  path: string;
  /** 1 = recorded timing (default), 10 = ten times faster, 0 or Infinity = as fast as possible. */
  speed?: number;
  /** Shift fix times so that the first fix carries the wall-clock time of the replay start. */
  rebaseToNow?: boolean;
  /** Start again at the end of the file; implies rebaseToNow (each pass is rebased to its own start). */
  loop?: boolean;
  /** Injected for tests; defaults to a timer that close() cancels. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  nowMs?: () => number;
}

export class NmeaFileReplay implements GnssDriver {
  /** Resolves when the whole file has been delivered (or the replay was closed). */
  done: Promise<void> = Promise.resolve();
  private reader: NmeaReader;
  private readonly queue: GnssFix[] = [];
  private readonly abort = new AbortController();
  private readonly speed: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly nowMs: () => number;
  /** Added to the file's fix times: 0, or the rebase to the wall clock, plus one file span per loop pass. */
  private offsetMs = NaN;
  /** Wall clock and (offset) fix time of the first fix delivered: the timing anchor of the whole replay. */
  private anchorWallMs = NaN;
  private anchorFixMs = NaN;
  private lastDeliveredMs = NaN;
  private lastIntervalMs = 1000;
  private running = false;
  private ioErrors = 0;
  private lastIoError = '';

  constructor(private readonly options: NmeaReplayOptions) {
    const speed = options.speed ?? 1;
    if (!(speed >= 0)) throw new Error(`gnss replay: speed must be >= 0 (got ${speed})`);
    this.speed = speed === 0 ? Infinity : speed;
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.nowMs = options.nowMs ?? Date.now;
    this.reader = new NmeaReader(options.path, (fix) => this.queue.push(fix), this.nowMs);
  }

  async open(sink: GnssSink): Promise<void> {
    try {
      await access(this.options.path);
    } catch (err) {
      throw new Error(`gnss replay: cannot read ${this.options.path}: ${(err as Error).message}`);
    }
    this.running = true;
    this.done = this.run(sink).finally(() => {
      this.running = false;
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  stats(): GnssDriverStats {
    return { ...this.reader.stats, connected: this.running, ioErrors: this.ioErrors, lastIoError: this.lastIoError };
  }

  private async run(sink: GnssSink): Promise<void> {
    do {
      if (!(await this.pass(sink))) return;
      this.reader.rewind();
      this.offsetMs = NaN; // the next pass continues one fix interval after this one
    } while (this.options.loop && this.reader.stats.fixes > 0);
  }

  /** One pass over the file; false when closed or failed. */
  private async pass(sink: GnssSink): Promise<boolean> {
    const stream = createReadStream(this.options.path, { encoding: 'latin1' });
    try {
      for await (const chunk of stream) {
        this.reader.push(chunk as string);
        if (!(await this.deliver(sink))) return false;
      }
      this.reader.end();
      return await this.deliver(sink);
    } catch (err) {
      this.ioErrors++;
      this.lastIoError = (err as Error).message;
      return false;
    } finally {
      stream.destroy();
    }
  }

  /** Offset of a pass whose first fix has file time `firstMs`. */
  private passOffset(firstMs: number): number {
    if (!Number.isNaN(this.lastDeliveredMs)) return this.lastDeliveredMs + this.lastIntervalMs - firstMs;
    return this.options.rebaseToNow || this.options.loop ? this.nowMs() - firstMs : 0;
  }

  /** Delivers queued fixes at their due time; false once the replay was closed. */
  private async deliver(sink: GnssSink): Promise<boolean> {
    const signal = this.abort.signal;
    for (let i = 0; i < this.queue.length; i++) {
      const fix = this.queue[i];
      if (Number.isNaN(this.offsetMs)) this.offsetMs = this.passOffset(fix.timeMs);
      fix.timeMs += this.offsetMs;
      if (Number.isNaN(this.anchorWallMs)) {
        this.anchorWallMs = this.nowMs();
        this.anchorFixMs = fix.timeMs;
      }
      if (this.speed !== Infinity) {
        const wait = this.anchorWallMs + (fix.timeMs - this.anchorFixMs) / this.speed - this.nowMs();
        if (wait > 0) {
          try {
            await this.sleep(wait, signal);
          } catch {
            /* aborted by close() */
          }
        }
      }
      if (signal.aborted) {
        this.queue.length = 0;
        return false;
      }
      if (fix.timeMs > this.lastDeliveredMs) this.lastIntervalMs = fix.timeMs - this.lastDeliveredMs;
      this.lastDeliveredMs = fix.timeMs;
      sink(fix);
    }
    this.queue.length = 0;
    return true;
  }
}
