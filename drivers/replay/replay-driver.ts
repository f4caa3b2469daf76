/**
 * A CanDriver that plays a candump log (either form, several buses) as if it were live traffic.
 *
 * - The file is read in chunks (never whole), parsed straight into one FrameBatch, and each batch is
 *   held (the parser is paused, nothing is copied) until the log time of its last frame comes due.
 * - Timing follows the log times relative to the first frame, divided by `speed`: 1 = real time,
 *   10 = ten times faster, 0 or 'max' = as fast as the sink takes them. A batch spans at most
 *   `maxBatchDelayMs` of wall time at the replay speed, so no frame waits longer than that.
 *   If the log's time jumps backwards, the schedule restarts from that frame.
 * - `loop`: at the end the log starts again, its times shifted to continue after the last frame
 *   (plus the log's mean frame gap), so times keep increasing.
 * - Timestamps: by default ('wall') frames carry wall-clock times: the replay start time plus the
 *   log time elapsed since the first frame divided by the speed (at 'max' speed, undivided, so a
 *   long log produces times ahead of the clock). This gives the agent's rules and trips plausible
 *   current times. 'log' keeps the log's own times (shifted on loops), as the decode CLI wants.
 * - Replay is receive-only: send() does not put frames on the replayed bus. It checks each frame as
 *   a bus would (ID range, length), counts it and records a copy (`sentFrames()`, the latest
 *   `sentFramesKept`), so that tests of the command path can see what was sent.
 */
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { createFrameBatch, FrameFlag, type FrameBatch } from '../can/frame-batch.js';
import type { CanDriver, DriverHealth, DriverStats, FrameSink, OutgoingFrame } from '../can/can-driver.js';
import { CandumpParser, type BadLineSample } from './candump-parser.js';
import { frameProblem } from '../can/frame-check.js';
import { wallClockUs } from '../can/wall-clock.js';

export interface ReplayDriverOptions {
  /** candump log file. */
  path: string;
  /** 1 = real time (default), N = N times faster, 0 or 'max' = as fast as possible. */
  speed?: number | 'max';
  /** Play the log again and again, times shifted to keep increasing. Default false. */
  loop?: boolean;
  /** Log interface name → bus name, e.g. `{ can0: 'body' }`; the key `'*'` renames every other interface. */
  busRename?: Record<string, string>;
  /** Bus for log lines that name no interface. Default `can0`. */
  defaultBus?: string;
  /** 'wall' (default): times on the wall clock; 'log': the log's own times. */
  timestamps?: 'wall' | 'log';
  /** Longest wall time a parsed frame waits for its batch to be delivered, in ms. Default 5. */
  maxBatchDelayMs?: number;
  /** Frames per batch. Default 1024. */
  batchCapacity?: number;
  /** Bytes per file read. Default 64 KiB. */
  chunkBytes?: number;
  /** How many sent frames to keep for sentFrames(). Default 10,000. */
  sentFramesKept?: number;
  /** Called once when the replay ends (without `loop`), fails, or is closed. */
  onEnd?: (error?: Error) => void;
}

export interface SentFrame {
  bus: string;
  id: number;
  flags: number;
  data: Uint8Array;
  /** When send() was called, µs since the epoch. */
  timeUs: number;
}

export interface ReplayProgress {
  /** Passes through the log completed. */
  passes: number;
  lines: number;
  framesIn: number;
  badLines: number;
  /** The first bad lines (of any pass). */
  badLineSamples: BadLineSample[];
  /** Set when reading or delivering failed. */
  error?: Error;
}

export class ReplayDriver implements CanDriver {
  readonly name: string;
  private readonly speed: number;
  private readonly batch: FrameBatch;
  private readonly readBuffer: Buffer;
  private readonly sent: SentFrame[] = [];
  private readonly counters: DriverStats = { framesIn: 0, framesOut: 0, errorFrames: 0, badInput: 0 };
  private readonly progress: ReplayProgress = { passes: 0, lines: 0, framesIn: 0, badLines: 0, badLineSamples: [] };

  private sink: FrameSink | null = null;
  private closed = false;
  private ended = false;
  private pump: Promise<void> | null = null;
  private finishedPromise: Promise<ReplayProgress> | null = null;
  private cancelWait: (() => void) | null = null;

  // Schedule: log time `anchorLogUs` is played at wall time `anchorWallMs` (performance.now()),
  // and stamped `anchorStampUs` when timestamps are 'wall'.
  private anchorLogUs = NaN;
  private anchorWallMs = 0;
  private anchorStampUs = 0;
  /** Shifted log time of the last frame delivered, and the last wall-clock stamp given. */
  private lastLogUs = -Infinity;
  private lastStampUs = 0;
  /** Added to the log times of the current pass (loops). */
  private passOffsetUs = 0;
  private passFirstUs = NaN;
  private passMaxUs = -Infinity;
  private passFrames = 0;

  constructor(private readonly options: ReplayDriverOptions) {
    const speed = options.speed ?? 1;
    if (speed !== 'max' && !(typeof speed === 'number' && speed >= 0 && Number.isFinite(speed))) {
      throw new Error(`replay: speed must be a number >= 0 or 'max', got ${String(speed)}`);
    }
    this.speed = speed === 'max' || speed === 0 ? Infinity : speed;
    this.name = `replay:${basename(options.path)}`;
    this.batch = createFrameBatch(options.batchCapacity ?? 1024);
    this.readBuffer = Buffer.alloc(options.chunkBytes ?? 64 * 1024);
  }

  async open(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`${this.name}: already open`);
    if (this.closed) throw new Error(`${this.name}: closed`);
    const file = await this.openLog();
    this.sink = sink;
    this.pump = this.play(file);
    this.finishedPromise = this.pump.then(
      () => {
        this.ended = true;
        this.options.onEnd?.();
        return this.progress;
      },
      (error: Error) => {
        this.progress.error = error;
        this.options.onEnd?.(error);
        throw error;
      },
    );
    this.finishedPromise.catch(() => {}); // reported through finished() and onEnd
  }

  /** Resolves when the replay has ended (never while looping, unless closed); rejects if it failed. */
  finished(): Promise<ReplayProgress> {
    if (!this.finishedPromise) return Promise.reject(new Error(`${this.name}: not open`));
    return this.finishedPromise;
  }

  /** Replay is receive-only: the frames are checked, counted and recorded, not replayed. */
  async send(frames: OutgoingFrame[]): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: cannot send, driver closed`);
    for (const frame of frames) {
      const problem = frameProblem(frame.id, frame.flags ?? 0, frame.data.length);
      if (problem !== undefined) throw new Error(`${this.name}: cannot send on ${frame.bus}: ${problem}`);
    }
    const keep = this.options.sentFramesKept ?? 10_000;
    for (const frame of frames) {
      this.sent.push({ bus: frame.bus, id: frame.id, flags: frame.flags ?? 0, data: Uint8Array.from(frame.data), timeUs: wallClockUs() });
      this.counters.framesOut++;
    }
    if (this.sent.length > keep) this.sent.splice(0, this.sent.length - keep);
  }

  /** Copies of the frames passed to send(), oldest first (the latest `sentFramesKept`). */
  sentFrames(): readonly SentFrame[] {
    return this.sent;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelWait?.();
    await this.pump?.catch(() => {});
  }

  stats(): DriverStats {
    return { ...this.counters };
  }

  /** Failed: the log could not be read on (a looping replay that lost its file, an I/O error). */
  health(): DriverHealth {
    if (this.progress.error) return { state: 'failed', detail: this.progress.error.message };
    if (this.closed) return { state: 'closed' };
    return { state: this.ended ? 'ended' : 'reading' };
  }

  /** Passes, lines and bad-line samples so far. */
  replayProgress(): ReplayProgress {
    return { ...this.progress, badLineSamples: [...this.progress.badLineSamples] };
  }

  private async openLog(): Promise<FileHandle> {
    try {
      return await openFile(this.options.path, 'r');
    } catch (error) {
      throw new Error(`${this.name}: cannot open candump log ${this.options.path}: ${(error as Error).message}`);
    }
  }

  private async play(first: FileHandle): Promise<void> {
    let file: FileHandle | null = first;
    const maxSpanUs = this.speed === Infinity ? Infinity : (this.options.maxBatchDelayMs ?? 5) * 1000 * this.speed;
    while (!this.closed) {
      const parser: CandumpParser = new CandumpParser(this.batch, () => parser.pause(), {
        defaultBus: this.options.defaultBus,
        busRename: this.options.busRename,
        maxSpanUs,
      });
      this.passFirstUs = NaN;
      this.passMaxUs = -Infinity;
      this.passFrames = 0;
      file ??= await this.openLog();
      try {
        for (;;) {
          const { bytesRead } = await file.read(this.readBuffer, 0, this.readBuffer.length, null);
          if (this.closed) return;
          if (bytesRead === 0) break;
          parser.push(this.readBuffer.subarray(0, bytesRead));
          await this.deliverHeld(parser);
          this.addBadLines(parser, false);
        }
        parser.end();
        await this.deliverHeld(parser);
        this.addBadLines(parser, true);
      } finally {
        await file.close();
        file = null;
      }
      if (this.closed) return;
      this.progress.passes++;
      if (!this.options.loop || this.passFrames === 0) return;
      const span = this.passMaxUs - this.passFirstUs;
      const meanGap = this.passFrames > 1 ? Math.max(1, Math.round(span / (this.passFrames - 1))) : 1000;
      this.passOffsetUs += span + meanGap;
    }
  }

  /** While the parser holds a batch: wait until it is due, hand it to the sink, let the parser go on. */
  private async deliverHeld(parser: CandumpParser): Promise<void> {
    while (parser.isPaused) {
      if (this.closed) return;
      await this.waitUntilDue();
      if (this.closed) return;
      this.deliver();
      parser.resume();
    }
  }

  private async waitUntilDue(): Promise<void> {
    const batch = this.batch;
    const firstUs = batch.timeUs[0] + this.passOffsetUs;
    if (Number.isNaN(this.anchorLogUs) || firstUs < this.lastLogUs) {
      // First batch, or the log's time went backwards: the schedule starts again from here.
      this.anchorLogUs = firstUs;
      this.anchorWallMs = performance.now();
      this.anchorStampUs = Math.max(this.lastStampUs + 1, wallClockUs());
    }
    if (this.speed === Infinity) return;
    const lastUs = batch.timeUs[batch.count - 1] + this.passOffsetUs;
    const delayMs = this.anchorWallMs + (lastUs - this.anchorLogUs) / 1000 / this.speed - performance.now();
    if (delayMs >= 1) await this.sleep(delayMs);
  }

  /** Hands the held batch to the sink, with its times shifted (loops) or moved to the wall clock. */
  private deliver(): void {
    const batch = this.batch;
    const n = batch.count;
    const offset = this.passOffsetUs;
    this.lastLogUs = batch.timeUs[n - 1] + offset;
    const wall = this.options.timestamps !== 'log';
    const scale = this.speed === Infinity ? 1 : this.speed;
    if (Number.isNaN(this.passFirstUs)) this.passFirstUs = batch.timeUs[0];
    let errors = 0;
    for (let i = 0; i < n; i++) {
      const logUs = batch.timeUs[i];
      if (logUs > this.passMaxUs) this.passMaxUs = logUs;
      if (wall) {
        // Never earlier than the previous stamp, even where the log's time steps back.
        const stamp = this.anchorStampUs + Math.round((logUs + offset - this.anchorLogUs) / scale);
        batch.timeUs[i] = this.lastStampUs = stamp > this.lastStampUs ? stamp : this.lastStampUs;
      } else {
        batch.timeUs[i] = logUs + offset;
      }
      if (batch.flags[i] & FrameFlag.ERROR) errors++;
    }
    this.passFrames += n;
    this.counters.framesIn += n;
    this.counters.errorFrames += errors;
    this.progress.framesIn += n;
    this.sink!(batch);
  }

  private addBadLines(parser: CandumpParser, passDone: boolean): void {
    const { stats } = parser;
    this.counters.badInput = this.progress.badLines + stats.badLines;
    if (!passDone) return;
    this.progress.badLines += stats.badLines;
    this.progress.lines += stats.lines;
    for (const sample of stats.badLineSamples) {
      if (this.progress.badLineSamples.length < 20) this.progress.badLineSamples.push(sample);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.cancelWait = done;
    }).then(() => {
      this.cancelWait = null;
    });
  }
}
