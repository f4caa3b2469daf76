/**
 * The project's own SocketCAN addon (drivers/socketcan/native/can_socket.c, built by node-gyp from the
 * root package's install script, and for ARM by cross-build/build.sh): a CAN_RAW socket read with
 * recvmmsg straight into FrameBatch arrays, with kernel receive timestamps and the kernel's count of
 * frames dropped on a full receive queue. This module loads it and types it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameFlag } from '../can/frame-batch.js';

/** Where node-gyp leaves the addon, relative to the package root. */
export const NATIVE_ADDON_PATH = 'drivers/socketcan/native/build/Release/roadlink_can.node';

export interface NativeCanSocketOptions {
  /** Kernel filters as id, mask pairs (CAN_RAW_FILTER); none: every frame. */
  filters?: Uint32Array;
  /** CAN_RAW_ERR_FILTER: the error classes to receive as error frames; 0: none. */
  errorMask?: number;
  /** Write error frames into the batch (they are counted either way). */
  deliverErrors?: boolean;
  /** Receive buffer to ask for (SO_RCVBUFFORCE, else SO_RCVBUF capped by net.core.rmem_max); 0: the default. */
  rcvbufBytes?: number;
  /** SocketCounter slots to add to (kept by the caller across reopens); default: a fresh array. */
  counters?: Float64Array;
}

/** Slots of NativeCanSocket.counters. */
export const SocketCounter = {
  /** Frames written into the batch. */
  FRAMES: 0,
  /** Error frames received (delivered or not). */
  ERROR_FRAMES: 1,
  /** Frames the kernel dropped because the socket's receive queue was full (SO_RXQ_OVFL with the next frame; syncDrops()). */
  KERNEL_DROPS: 2,
  /** Reads of an unexpected size (neither a classic nor a CAN FD frame). */
  BAD_FRAMES: 3,
} as const;
export const SOCKET_COUNTERS = 4;

/** An error of the addon: code is the errno name (ENODEV, ENETDOWN...), syscall what failed. */
export interface NativeSocketError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  iface?: string;
  /** read(): frames written into the batch before the error. */
  framesRead?: number;
}

export interface NativeCanSocket {
  readonly iface: string;
  readonly mtu: number;
  /** The MTU carries CAN FD frames, and the socket receives them (CAN_RAW_FD_FRAMES). */
  readonly canFd: boolean;
  /** The receive buffer the kernel granted (SO_RCVBUF as read back: twice the payload it holds). */
  readonly rcvbufBytes: number;
  readonly counters: Float64Array;
  /** The arrays read() writes into (a FrameBatch's); kept referenced by the socket. */
  setTarget(id: Uint32Array, len: Uint8Array, flags: Uint8Array, timeUs: Float64Array, data: Uint8Array): void;
  /** Frames written at [start, start + n); n < max means the queue is empty. Throws NativeSocketError. */
  read(start: number, max: number): number;
  /** Writes one frame (FrameFlag bits); throws NativeSocketError (ENOBUFS: transmit queue full). */
  send(id: number, flags: number, data: Uint8Array): void;
  /** Calls back with no argument whenever the socket is readable, with an error once when it fails. */
  poll(callback: (error?: NativeSocketError) => void): void;
  /** Brings counters[KERNEL_DROPS] up to date now (SO_MEMINFO) rather than with the next frame. */
  syncDrops(): void;
  /** Closes the socket; repeating it does nothing. */
  close(): void;
}

export interface NativeCanAddon {
  CanSocket: new (iface: string, options?: NativeCanSocketOptions) => NativeCanSocket;
  FRAME_FLAGS: Record<keyof typeof FrameFlag, number>;
}

let addon: NativeCanAddon | undefined;

/** Loads the addon on first use; throws a clear error when it is not built or does not load. */
export function loadNativeCanAddon(): NativeCanAddon {
  if (addon) return addon;
  const here = dirname(fileURLToPath(import.meta.url));
  // From the sources (drivers/socketcan/) and from dist/drivers/socketcan/.
  const candidates = [join(here, '../..', NATIVE_ADDON_PATH), join(here, '../../..', NATIVE_ADDON_PATH)];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`native SocketCAN reader not built: ${NATIVE_ADDON_PATH} is missing (npm run build:native)`);
  let loaded: NativeCanAddon;
  try {
    loaded = createRequire(import.meta.url)(path) as NativeCanAddon;
  } catch (error) {
    throw new Error(`native SocketCAN reader ${path} does not load: ${(error as Error).message}`);
  }
  for (const [name, bit] of Object.entries(FrameFlag)) {
    if (loaded.FRAME_FLAGS[name as keyof typeof FrameFlag] !== bit) throw new Error(`native SocketCAN reader ${path}: its FrameFlag.${name} differs from drivers/can/frame-batch.ts (rebuild it)`);
  }
  addon = loaded;
  return addon;
}

/** The reason behind an addon error, in words (the errno name stays in brackets). */
export function explainSocketError(error: NativeSocketError): string {
  const { code, syscall = '', iface = '?' } = error;
  if (syscall === 'if_nametoindex' && code === 'ENODEV') return `no such network interface "${iface}" (ENODEV)`;
  if (syscall.startsWith('socket(') && (code === 'EAFNOSUPPORT' || code === 'EPROTONOSUPPORT')) {
    return `this kernel has no SocketCAN support: socket(PF_CAN, SOCK_RAW, CAN_RAW) fails with ${code} (load the can and can_raw modules)`;
  }
  if (syscall === 'bind' && code === 'ENODEV') return `"${iface}" is not a CAN interface (bind: ENODEV)`;
  if (code === 'ENETDOWN') return `interface ${iface} is down (ENETDOWN)`;
  if (code === 'ENODEV' || code === 'ENXIO') return `interface ${iface} is gone (${code})`;
  if (code === 'ENOBUFS' || code === 'EAGAIN') return `transmit queue full (${code})`;
  return error.message;
}

/** Opens a socket; an error says why in words (explainSocketError) and keeps the addon's code. */
export function openNativeCanSocket(lib: NativeCanAddon, iface: string, options: NativeCanSocketOptions): NativeCanSocket {
  try {
    return new lib.CanSocket(iface, options);
  } catch (error) {
    const e = error as NativeSocketError;
    if (typeof e.code !== 'string' || !e.syscall) throw error;
    throw Object.assign(new Error(explainSocketError(e), { cause: e }), { code: e.code });
  }
}
