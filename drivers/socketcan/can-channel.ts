/**
 * A channel is one open CAN_RAW socket of the SocketCAN driver on one interface, through one of two
 * backends: `native` (the project's addon, native-channel.ts: recvmmsg in batches into the
 * FrameBatch) or `addon` (the socketcan npm addon, addon-channel.ts: a callback per frame). The
 * driver picks the backend once (pickBackend) and opens a channel per interface, reopening it after
 * the interface went down.
 */
import type { OutgoingFrame } from '../can/can-driver.js';
import type { FrameBatch } from '../can/frame-batch.js';
import type { CanFilter } from './rx-filters.js';
import { loadSocketcanAddon, openAddonChannel, type SocketcanAddon } from './addon-channel.js';
import { loadNativeCanAddon, type NativeCanAddon } from './native-can-socket.js';
import { openNativeChannel } from './native-channel.js';

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

export interface ChannelBackend {
  readonly name: SocketCanBackend;
  /** Why `auto` fell back to the socketcan addon (the native reader's load error). */
  readonly fallbackReason?: string;
  /** Opens a channel on host.iface; throws when the interface cannot be opened. */
  open(host: ChannelHost): CanChannel;
}

/** How each backend's addon is loaded (replaceable to see what `auto` does when one does not load). */
export interface BackendLoaders {
  native: () => NativeCanAddon;
  addon: () => SocketcanAddon;
}

const LOADERS: BackendLoaders = { native: loadNativeCanAddon, addon: loadSocketcanAddon };

/**
 * Loads a backend: `native` or `addon` as asked (throwing when it does not load), or with `auto`
 * the native reader when it loads, else the socketcan addon.
 */
export function pickBackend(choice: SocketCanBackend | 'auto', loaders: BackendLoaders = LOADERS): ChannelBackend {
  const native = (): ChannelBackend => {
    const lib = loaders.native();
    return { name: 'native', open: (host) => openNativeChannel(lib, host) };
  };
  const addon = (): ChannelBackend => {
    const lib = loaders.addon();
    return { name: 'addon', open: (host) => openAddonChannel(lib, host) };
  };
  if (choice === 'addon') return addon();
  if (choice === 'native') return native();
  try {
    return native();
  } catch (nativeError) {
    const fallbackReason = (nativeError as Error).message;
    try {
      return { ...addon(), fallbackReason };
    } catch (addonError) {
      throw new Error(`socketcan: no backend loads: ${fallbackReason}; ${(addonError as Error).message}`);
    }
  }
}
