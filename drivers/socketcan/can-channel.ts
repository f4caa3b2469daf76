/**
 * A channel is one open CAN_RAW socket of the SocketCAN driver on one interface, through one of two
 * backends: `native` (the project's addon, native-channel.ts: recvmmsg in batches into the
 * FrameBatch) or `addon` (the socketcan npm addon, addon-channel.ts: a callback per frame). The
 * driver picks the backend once (pick-backend.ts) and opens a channel per interface, reopening it after
 * the interface went down.
 */
import type { OutgoingFrame } from '../can/can-driver.js';
import type { FrameBatch } from '../can/frame-batch.js';
import type { CanFilter } from './rx-filters.js';

export type SocketCanBackend = 'native' | 'addon';

/** What a channel gets from the driver: the interface's settings, the shared batch, and callbacks. */
export interface ChannelHost {
  readonly iface: string;
  readonly filters: readonly CanFilter[];
  readonly receiveErrorFrames: boolean;
  /** Receive buffer to ask for (native backend), bytes; 0: the kernel's default. */
  readonly rcvbufBytes: number;
  readonly batch: FrameBatch;
  readonly busSlot: number;
  /** SocketCounter slots (native-can-socket.ts) of this interface, kept across reopens. */
  readonly counters: Float64Array;
  /** The channel wrote frames [from, batch.count) (bus included): the driver counts them, and delivers a full batch. */
  received(from: number): void;
  /** Delivers the batch now (the native channel, once it drained its socket). */
  flush(): void;
  /** Delivers the batch soon, once per turn of the event loop (the addon channel, after each frame). */
  flushSoon(): void;
  /** The socket failed (interface down, removed...): the channel has closed itself. */
  failed(reason: string, code?: string): void;
}

export interface CanChannel {
  /** The interface's MTU carries CAN FD frames. */
  readonly canFd: boolean;
  /** The receive buffer the kernel granted, when the backend can tell. */
  readonly rcvbufBytes?: number;
  /** Writes one frame (already checked by the driver); throws an Error whose message is the reason. */
  send(frame: OutgoingFrame): void;
  /** Brings the host's counters up to date (the native backend's kernel drop count). */
  syncCounters(): void;
  /** Closes the socket (counters synced first); no failed() call follows. Repeating it does nothing. */
  close(): void;
}
