/**
 * The unit in which CAN frames travel from a driver to the decoder.
 *
 * A batch is a struct of arrays so that the hot path allocates nothing per frame:
 * frame `i` has its payload at `data[i * FRAME_STRIDE .. i * FRAME_STRIDE + len[i])`.
 * A driver fills a batch, hands it to its sink, and may reuse it as soon as the sink returns.
 */

/** Bytes reserved per frame in `data`: the largest CAN FD payload. */
export const FRAME_STRIDE = 64;

/** Bits of `FrameBatch.flags`. */
export const FrameFlag = {
  /** 29-bit identifier. */
  EXTENDED: 1,
  /** CAN FD frame. */
  FD: 2,
  /** CAN FD bit rate switch. */
  BRS: 4,
  /** CAN FD error state indicator. */
  ESI: 8,
  /** Remote transmission request (classic CAN only). */
  RTR: 16,
  /** Error frame: `id` holds the error class bits (linux/can/error.h). */
  ERROR: 32,
} as const;

export interface FrameBatch {
  /** Frames in use, from index 0. */
  count: number;
  /** Frames the arrays can hold. */
  readonly capacity: number;
  /** Bus names; `bus[i]` indexes this table. A driver appends, never reorders. */
  readonly busNames: string[];
  readonly bus: Uint8Array;
  /** CAN identifier without flag bits (11 or 29 bits). */
  readonly id: Uint32Array;
  /** Payload length in bytes (0..64). */
  readonly len: Uint8Array;
  /** FrameFlag bits. */
  readonly flags: Uint8Array;
  /** Receive time, microseconds since the Unix epoch (exact integers in a double). */
  readonly timeUs: Float64Array;
  /** Payloads, FRAME_STRIDE bytes per frame. */
  readonly data: Uint8Array;
}

export function createFrameBatch(capacity = 1024, busNames: string[] = []): FrameBatch {
  return {
    count: 0,
    capacity,
    busNames,
    bus: new Uint8Array(capacity),
    id: new Uint32Array(capacity),
    len: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    timeUs: new Float64Array(capacity),
    data: new Uint8Array(capacity * FRAME_STRIDE),
  };
}

/** Index of `name` in the batch's bus table, adding it when new. */
export function busIndex(batch: FrameBatch, name: string): number {
  let index = batch.busNames.indexOf(name);
  if (index < 0) {
    if (batch.busNames.length >= 256) throw new Error(`too many buses (256 at most): ${name}`);
    index = batch.busNames.push(name) - 1;
  }
  return index;
}

/** Appends one frame (a convenience for tests, generators and the command path; not the hot path). */
export function pushFrame(
  batch: FrameBatch,
  frame: { bus: string; id: number; data: Uint8Array | number[]; flags?: number; timeUs?: number },
): number {
  if (batch.count >= batch.capacity) throw new Error('frame batch is full');
  if (frame.data.length > FRAME_STRIDE) throw new Error(`payload of ${frame.data.length} bytes exceeds ${FRAME_STRIDE}`);
  const i = batch.count++;
  batch.bus[i] = busIndex(batch, frame.bus);
  batch.id[i] = frame.id;
  batch.len[i] = frame.data.length;
  batch.flags[i] = frame.flags ?? 0;
  batch.timeUs[i] = frame.timeUs ?? Date.now() * 1000;
  batch.data.set(frame.data, i * FRAME_STRIDE);
  return i;
}

/** A copy of frame i's payload (allocates: not for the hot path). */
export function framePayload(batch: FrameBatch, i: number): Uint8Array {
  const start = i * FRAME_STRIDE;
  return batch.data.slice(start, start + batch.len[i]);
}
