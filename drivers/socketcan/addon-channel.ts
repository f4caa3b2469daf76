/**
 * A channel on the `socketcan` npm addon (RawChannel), the backend when the project's native reader
 * is not built. The addon calls back once per frame with a fresh object ({ id, ext, rtr, err, data,
 * ts_sec, ts_usec }; up to 100 frames per wake-up, one recv and one SIOCGSTAMP ioctl each); each is
 * copied into the batch, which the driver delivers once per turn of the event loop or when full.
 *
 * What the addon cannot tell: it always switches the socket to CAN FD frames when the kernel allows,
 * but reports neither the FD flag nor BRS/ESI; a frame with more than 8 bytes is marked FD, an FD
 * frame of 8 bytes or fewer arrives as classic. When sending, it can set BRS but not ESI. It does not
 * report kernel drops. When the kernel reports an error on the socket (interface down, removed), the
 * addon stops the channel: the reason is then read from /sys.
 */
import { createRequire } from 'node:module';
import type { OutgoingFrame } from '../can/can-driver.js';
import { FRAME_STRIDE, FrameFlag } from '../can/frame-batch.js';
import { wallClockUs } from '../can/wall-clock.js';
import type { CanChannel, ChannelHost } from './can-channel.js';
import { CANFD_MTU, interfaceIsUp, readNetSys } from './interface-sysfs.js';
import { SocketCounter } from './native-can-socket.js';

/** What the addon passes to onMessage listeners. */
export interface AddonMessage {
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  data: Buffer;
  ts_sec?: number;
  ts_usec?: number;
}

/** The parts of the addon's RawChannel used here. */
interface RawChannel {
  addListener(event: 'onMessage' | 'onStopped', callback: (...args: never[]) => void): void;
  start(): void;
  stop(): void;
  send(message: object): number;
  sendFD(message: object): number;
  setRxFilters(filters: Array<{ id: number; mask: number }>): void;
  setErrorFilters(mask: number): void;
}

export interface SocketcanAddon {
  createRawChannelWithOptions(iface: string, options: { timestamps?: boolean; non_block_send?: boolean }): RawChannel;
}

const CAN_ERR_MASK = 0x1fffffff;
const CAN_MTU = 16;

let addon: SocketcanAddon | undefined;

/** Loads the addon on first use, so that an agent replaying logs does not need it. */
export function loadSocketcanAddon(): SocketcanAddon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)('socketcan') as SocketcanAddon;
  } catch (error) {
    throw new Error(`socketcan: cannot load the socketcan addon (npm package socketcan, built for this platform): ${(error as Error).message}`);
  }
  return addon;
}

export function openAddonChannel(lib: SocketcanAddon, host: ChannelHost): CanChannel {
  return new AddonChannel(lib, host);
}

class AddonChannel implements CanChannel {
  readonly canFd: boolean;
  private readonly channel: RawChannel;
  /** Set before our own stop(), so that the addon's onStopped is not taken for a failure. */
  private closed = false;

  constructor(lib: SocketcanAddon, private readonly host: ChannelHost) {
    const channel = lib.createRawChannelWithOptions(host.iface, { timestamps: true, non_block_send: true });
    this.canFd = Number(readNetSys(host.iface, 'mtu')) >= CANFD_MTU;
    if (host.filters.length > 0) channel.setRxFilters([...host.filters]);
    channel.setErrorFilters(CAN_ERR_MASK);
    channel.addListener('onMessage', (message: AddonMessage) => this.receive(message));
    channel.addListener('onStopped', () => this.stopped());
    channel.start();
    this.channel = channel;
  }

  send(frame: OutgoingFrame): void {
    const flags = frame.flags ?? 0;
    const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    const ext = (flags & FrameFlag.EXTENDED) !== 0;
    let written: number;
    if (flags & FrameFlag.FD) {
      written = this.channel.sendFD({ id: frame.id, ext, fd_brs: (flags & FrameFlag.BRS) !== 0, data });
    } else {
      const rtr = (flags & FrameFlag.RTR) !== 0;
      written = this.channel.send({ id: frame.id, ext, rtr, data: rtr ? Buffer.alloc(data.length) : data });
    }
    if (written !== (flags & FrameFlag.FD ? CANFD_MTU : CAN_MTU)) {
      throw new Error(interfaceIsUp(this.host.iface) ? 'transmit queue full or bus error' : 'interface is down');
    }
  }

  syncCounters(): void {
    // The addon keeps no kernel counters.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.channel.stop();
    } catch {
      // Already stopped by the addon (socket error): nothing left to stop.
    }
  }

  private receive(m: AddonMessage): void {
    if (this.closed) return;
    const host = this.host;
    if (m.err) {
      host.counters[SocketCounter.ERROR_FRAMES]++;
      if (!host.receiveErrorFrames) return;
    }
    const batch = host.batch;
    const i = batch.count;
    const len = m.data.length > FRAME_STRIDE ? FRAME_STRIDE : m.data.length;
    batch.bus[i] = host.busSlot;
    batch.id[i] = m.id;
    batch.len[i] = len;
    batch.flags[i] = m.err ? FrameFlag.ERROR : (m.ext ? FrameFlag.EXTENDED : 0) | (m.rtr ? FrameFlag.RTR : 0) | (len > 8 ? FrameFlag.FD : 0);
    batch.timeUs[i] = m.ts_sec !== undefined ? m.ts_sec * 1e6 + (m.ts_usec ?? 0) : wallClockUs();
    const data = batch.data;
    const base = i * FRAME_STRIDE;
    for (let k = 0; k < len; k++) data[base + k] = m.data[k];
    batch.count = i + 1;
    host.counters[SocketCounter.FRAMES]++;
    host.received(i);
    host.flushSoon();
  }

  /** The addon stopped the channel: expected after close(), else the interface failed. */
  private stopped(): void {
    if (this.closed) return;
    this.closed = true;
    const { iface } = this.host;
    this.host.failed(interfaceIsUp(iface) ? 'socket error reported by the kernel' : `interface ${iface} is down or gone`);
  }
}
