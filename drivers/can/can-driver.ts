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
}
