import type { FrameBatch } from './frame-batch.js';

/** Receives frames from a driver. The batch is only valid until the call returns. */
export type FrameSink = (batch: FrameBatch) => void;

/** One frame to transmit. */
export interface OutgoingFrame {
  bus: string;
  id: number;
  data: Uint8Array;
  /** FrameFlag bits (EXTENDED, FD, BRS). */
  flags?: number;
}

/** Counters every driver keeps; surfaced in the agent's health report. */
export interface DriverStats {
  framesIn: number;
  framesOut: number;
  errorFrames: number;
  /** Input that could not be turned into a frame (bad log lines, short reads). */
  badInput: number;
}

/**
 * Whether a driver still delivers what its buses send (the agent's watchdog asks, agent/runtime/health.ts):
 * - `reading`: open and receiving (or waiting for frames);
 * - `reopening`: an interface went down and the driver is retrying it (a known state, not a failure);
 * - `ended`: a replayed log was played to its end (nothing more will come, by design);
 * - `failed`: stopped delivering because of an error it does not recover from;
 * - `closed`: close() was called.
 */
export type DriverState = 'reading' | 'reopening' | 'ended' | 'failed' | 'closed';

export interface DriverHealth {
  state: DriverState;
  /** What failed, which interface is being reopened... */
  detail?: string;
}

/**
 * A source and sink of CAN frames for one or more buses.
 * Drivers live in drivers/; the agent only sees this interface.
 */
export interface CanDriver {
  readonly name: string;
  /** Starts delivering frames to `sink`. Resolves once the driver is ready. */
  open(sink: FrameSink): Promise<void>;
  /** Sends frames; rejects with a clear error when the bus cannot take them. */
  send(frames: OutgoingFrame[]): Promise<void>;
  close(): Promise<void>;
  stats(): DriverStats;
  /** Where the driver stands (drivers without it count as reading). */
  health?(): DriverHealth;
}
