/**
 * A CanDriver on Linux SocketCAN through the `socketcan` npm addon (one CAN_RAW channel per interface).
 *
 * Receiving: the addon calls back once per frame with a fresh object ({ id, ext, rtr, err, data,
 * ts_sec, ts_usec }); each is copied into one FrameBatch shared by all interfaces, and the batch is
 * delivered on setImmediate (after the addon's burst of callbacks, up to 100 frames per wakeup) or
 * as soon as it is full. Times are the kernel's receive timestamps (SIOCGSTAMP), in µs.
 *
 * What the addon cannot tell: it always switches the socket to CAN FD frames when the kernel allows,
 * but reports neither the FD flag nor BRS/ESI; a frame with more than 8 bytes is marked FD, an FD
 * frame of 8 bytes or fewer arrives as classic. When sending, it can set BRS but not ESI.
 *
 * Filters: `rxIds` (the IDs the DBCs of that bus define) become kernel filters (rx-filters.ts); no
 * list means every frame. Error frames are counted in stats().errorFrames and delivered only with
 * `receiveErrorFrames` (FrameFlag.ERROR, id = error class bits, 8 data bytes as in linux/can/error.h).
 *
 * Interface down/up: when the kernel reports an error on the socket (interface down, removed), the
 * addon stops the channel; the driver marks the interface down, calls `onInterfaceState`, and reopens
 * it with backoff (checking /sys/class/net/<if>/flags for IFF_UP first) without the agent restarting.
 * While an interface is down, send() on its bus rejects.
 *
 * Sending uses non-blocking writes (a full transmit queue rejects instead of blocking the event loop).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { busIndex, createFrameBatch, FRAME_STRIDE, FrameFlag, type FrameBatch } from '../can/frame-batch.js';
import type { CanDriver, DriverStats, FrameSink, OutgoingFrame } from '../can/can-driver.js';
import { frameProblem } from '../can/frame-check.js';
import { wallClockUs } from '../can/wall-clock.js';
import { buildRxFilters, type RxId } from './rx-filters.js';

export interface SocketCanInterfaceOptions {
  /** Network interface, e.g. `can0` or `vcan0`. */
  iface: string;
  /** Bus name in frame batches and in send(); default: the interface name. */
  bus?: string;
  /** IDs to receive (kernel filters). Missing or empty: every frame. */
  rxIds?: readonly RxId[];
}

export interface SocketCanDriverOptions {
  interfaces: readonly SocketCanInterfaceOptions[];
  /** Deliver error frames to the sink (they are always counted). Default false. */
  receiveErrorFrames?: boolean;
  /** Frames per batch. Default 1024. */
  batchCapacity?: number;
  /** First reopen delay after an interface went down, ms. Default 100. */
  reopenMinMs?: number;
  /** Longest reopen delay (the delay doubles up to this), ms. Default 5000. */
  reopenMaxMs?: number;
  /** Called when an interface goes down (with the reason) or comes back up. */
  onInterfaceState?: (event: InterfaceStateEvent) => void;
  /** Called when the frame sink throws (the frames of that batch are lost). Default: a process warning. */
  onError?: (error: Error) => void;
}

export type InterfaceState = 'up' | 'down' | 'closed';

export interface InterfaceStateEvent {
  iface: string;
  bus: string;
  state: InterfaceState;
  reason?: string;
}

export interface InterfaceStatus {
  iface: string;
  bus: string;
  state: InterfaceState;
  /** Whether the interface's MTU carries CAN FD frames (72 bytes). */
  fd: boolean;
  /** Kernel filters set (0 = every frame), and whether they pass exactly the IDs asked for. */
  filters: number;
  exactFilters: boolean;
  framesIn: number;
  framesOut: number;
  errorFrames: number;
  /** Times the interface went down, and reopen attempts made since. */
  downEvents: number;
  reopenAttempts: number;
  lastError?: string;
}

/** The parts of the addon's RawChannel this driver uses. */
interface RawChannel {
  addListener(event: 'onMessage' | 'onStopped', callback: (...args: never[]) => void): void;
  start(): void;
  stop(): void;
  send(message: object): number;
  sendFD(message: object): number;
  setRxFilters(filters: Array<{ id: number; mask: number }>): void;
  setErrorFilters(mask: number): void;
}

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

interface SocketcanAddon {
  createRawChannelWithOptions(iface: string, options: { timestamps?: boolean; non_block_send?: boolean }): RawChannel;
}

const CAN_ERR_MASK = 0x1fffffff;
const CAN_MTU = 16;
const CANFD_MTU = 72;
const IFF_UP = 0x1;
const ARPHRD_CAN = 280;

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

/**
 * Why an interface cannot be opened, as far as /sys and /proc tell, or undefined when they see
 * nothing wrong (the addon's own error then stands).
 */
export function diagnoseInterface(iface: string): string | undefined {
  const sys = `/sys/class/net/${iface}`;
  if (!/^[\w.:-]{1,15}$/.test(iface)) return 'not a valid interface name';
  if (!existsSync(sys)) return `no such network interface (${sys} does not exist)`;
  const type = Number(readSys(iface, 'type'));
  if (type !== ARPHRD_CAN) return `not a CAN interface (link type ${type}, CAN is ${ARPHRD_CAN})`;
  if (!existsSync('/proc/net/can')) return 'the kernel has no CAN protocol support loaded (modprobe can_raw)';
  return undefined;
}

function readSys(iface: string, name: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${iface}/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function reportError(error: Error): void {
  process.emitWarning(error);
}

function interfaceIsUp(iface: string): boolean {
  return (Number(readSys(iface, 'flags') ?? 0) & IFF_UP) !== 0;
}

/** One interface: its channel (while up), filters and counters. */
class CanInterface {
  readonly status: InterfaceStatus;
  channel: RawChannel | null = null;
  busSlot = -1;
  /** The channel whose stop is expected (close or reopen), so its onStopped is not a failure. */
  stopping: RawChannel | null = null;
  reopenTimer: NodeJS.Timeout | null = null;
  reopenDelayMs = 0;
  readonly filters: Array<{ id: number; mask: number }>;
  /** When the kernel filters pass more than asked for: the wanted IDs, as (ext ? id | 2^29 : id). */
  readonly wanted: Set<number> | null;

  constructor(readonly options: SocketCanInterfaceOptions) {
    const plan = buildRxFilters(options.rxIds ?? []);
    this.filters = plan.filters;
    this.wanted = plan.exact ? null : new Set((options.rxIds ?? []).map((r) => (r.extended ? r.id + 0x20000000 : r.id)));
    this.status = {
      iface: options.iface,
      bus: options.bus ?? options.iface,
      state: 'down',
      fd: false,
      filters: plan.filters.length,
      exactFilters: plan.exact,
      framesIn: 0,
      framesOut: 0,
      errorFrames: 0,
      downEvents: 0,
      reopenAttempts: 0,
    };
  }
}

export class SocketCanDriver implements CanDriver {
  readonly name: string;
  private readonly batch: FrameBatch;
  private readonly interfaces: CanInterface[];
  private readonly byBus = new Map<string, CanInterface>();
  private readonly counters: DriverStats = { framesIn: 0, framesOut: 0, errorFrames: 0, badInput: 0 };
  private sink: FrameSink | null = null;
  private flushScheduled = false;
  private sinkErrors = 0;
  private closed = false;
  private readonly flushNow = () => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(private readonly options: SocketCanDriverOptions) {
    if (options.interfaces.length === 0) throw new Error('socketcan: no interfaces given');
    this.interfaces = options.interfaces.map((o) => new CanInterface(o));
    for (const itf of this.interfaces) {
      if (this.byBus.has(itf.status.bus)) throw new Error(`socketcan: bus ${itf.status.bus} is given twice`);
      this.byBus.set(itf.status.bus, itf);
    }
    this.name = `socketcan:${this.interfaces.map((i) => i.status.iface).join(',')}`;
    this.batch = createFrameBatch(options.batchCapacity ?? 1024);
    for (const itf of this.interfaces) itf.busSlot = busIndex(this.batch, itf.status.bus);
  }

  /** Opens every interface; rejects (closing the others) when one cannot be opened at all. */
  async open(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`${this.name}: already open`);
    if (this.closed) throw new Error(`${this.name}: closed`);
    const lib = loadSocketcanAddon();
    this.sink = sink;
    try {
      for (const itf of this.interfaces) this.openChannel(itf, lib);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async send(frames: OutgoingFrame[]): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: cannot send, driver closed`);
    for (const frame of frames) {
      const itf = this.byBus.get(frame.bus);
      if (!itf) throw new Error(`${this.name}: no interface for bus ${frame.bus} (buses: ${[...this.byBus.keys()].join(', ')})`);
      const flags = frame.flags ?? 0;
      const problem = frameProblem(frame.id, flags, frame.data.length) ?? (flags & FrameFlag.ERROR ? 'error frames cannot be sent' : undefined);
      if (problem !== undefined) throw new Error(`${this.name}: cannot send on ${frame.bus}: ${problem}`);
      if (flags & FrameFlag.FD && !itf.status.fd) throw new Error(`${this.name}: cannot send a CAN FD frame on ${itf.status.iface}: its MTU does not carry CAN FD`);
      if (!itf.channel) throw new Error(`${this.name}: cannot send on ${frame.bus}: interface ${itf.status.iface} is down${itf.status.lastError ? ` (${itf.status.lastError})` : ''}`);
    }
    for (const frame of frames) this.sendOne(this.byBus.get(frame.bus)!, frame);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const itf of this.interfaces) {
      if (itf.reopenTimer) clearTimeout(itf.reopenTimer);
      itf.reopenTimer = null;
      this.stopChannel(itf);
      itf.status.state = 'closed';
    }
    if (this.sink && this.batch.count > 0) this.flush();
    this.sink = null;
  }

  stats(): DriverStats {
    return { ...this.counters };
  }

  /** Per-interface state and counters. */
  interfaceStatus(): InterfaceStatus[] {
    return this.interfaces.map((i) => ({ ...i.status }));
  }

  private openChannel(itf: CanInterface, lib: SocketcanAddon): void {
    const { iface } = itf.status;
    let channel: RawChannel;
    try {
      channel = lib.createRawChannelWithOptions(iface, { timestamps: true, non_block_send: true });
    } catch (error) {
      const why = diagnoseInterface(iface) ?? (error as Error).message;
      throw new Error(`socketcan: cannot open CAN interface "${iface}": ${why}`);
    }
    itf.status.fd = Number(readSys(iface, 'mtu')) >= CANFD_MTU;
    if (itf.filters.length > 0) channel.setRxFilters(itf.filters);
    channel.setErrorFilters(CAN_ERR_MASK);
    channel.addListener('onMessage', (message: AddonMessage) => this.receive(itf, message));
    channel.addListener('onStopped', () => this.stopped(itf, channel));
    channel.start();
    itf.channel = channel;
    itf.status.state = 'up';
  }

  private receive(itf: CanInterface, m: AddonMessage): void {
    if (!this.sink) return;
    const status = itf.status;
    if (m.err) {
      status.errorFrames++;
      this.counters.errorFrames++;
      if (!this.options.receiveErrorFrames) return;
    } else if (itf.wanted && !itf.wanted.has(m.ext ? m.id + 0x20000000 : m.id)) {
      return;
    }
    const batch = this.batch;
    const i = batch.count;
    const len = m.data.length > FRAME_STRIDE ? FRAME_STRIDE : m.data.length;
    batch.bus[i] = itf.busSlot;
    batch.id[i] = m.id;
    batch.len[i] = len;
    batch.flags[i] = m.err ? FrameFlag.ERROR : (m.ext ? FrameFlag.EXTENDED : 0) | (m.rtr ? FrameFlag.RTR : 0) | (len > 8 ? FrameFlag.FD : 0);
    batch.timeUs[i] = m.ts_sec !== undefined ? m.ts_sec * 1e6 + (m.ts_usec ?? 0) : wallClockUs();
    const data = batch.data;
    const base = i * FRAME_STRIDE;
    for (let k = 0; k < len; k++) data[base + k] = m.data[k];
    batch.count = i + 1;
    status.framesIn++;
    this.counters.framesIn++;
    if (batch.count === batch.capacity) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /**
   * Hands the batch to the sink. This runs inside the addon's callback or a setImmediate, where an
   * exception would end the process: a failing sink is counted and reported through onError.
   */
  private flush(): void {
    const batch = this.batch;
    if (batch.count === 0 || !this.sink) return;
    try {
      this.sink(batch);
    } catch (error) {
      this.sinkErrors++;
      (this.options.onError ?? reportError)(new Error(`${this.name}: the frame sink failed: ${(error as Error).message}`, { cause: error }));
    } finally {
      batch.count = 0;
    }
  }

  /** Batches whose sink threw (see onError). */
  get failedDeliveries(): number {
    return this.sinkErrors;
  }

  private sendOne(itf: CanInterface, frame: OutgoingFrame): void {
    const flags = frame.flags ?? 0;
    const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    const ext = (flags & FrameFlag.EXTENDED) !== 0;
    let written: number;
    if (flags & FrameFlag.FD) {
      written = itf.channel!.sendFD({ id: frame.id, ext, fd_brs: (flags & FrameFlag.BRS) !== 0, data });
    } else {
      const rtr = (flags & FrameFlag.RTR) !== 0;
      written = itf.channel!.send({ id: frame.id, ext, rtr, data: rtr ? Buffer.alloc(data.length) : data });
    }
    if (written !== ((flags & FrameFlag.FD) !== 0 ? CANFD_MTU : CAN_MTU)) {
      const why = !interfaceIsUp(itf.status.iface) ? 'interface is down' : 'transmit queue full or bus error';
      throw new Error(`${this.name}: sending 0x${frame.id.toString(16)} on ${itf.status.iface} failed: ${why}`);
    }
    itf.status.framesOut++;
    this.counters.framesOut++;
  }

  /** The addon stopped a channel: expected when we stop it, else the interface failed. */
  private stopped(itf: CanInterface, channel: RawChannel): void {
    if (itf.stopping === channel) {
      itf.stopping = null;
      return;
    }
    if (itf.channel !== channel) return;
    itf.channel = null;
    if (this.closed) return;
    const reason = interfaceIsUp(itf.status.iface) ? 'socket error reported by the kernel' : `interface ${itf.status.iface} is down or gone`;
    itf.status.state = 'down';
    itf.status.downEvents++;
    itf.status.lastError = reason;
    itf.reopenDelayMs = 0;
    this.options.onInterfaceState?.({ iface: itf.status.iface, bus: itf.status.bus, state: 'down', reason });
    this.scheduleReopen(itf);
  }

  private scheduleReopen(itf: CanInterface): void {
    const min = this.options.reopenMinMs ?? 100;
    const max = this.options.reopenMaxMs ?? 5000;
    itf.reopenDelayMs = itf.reopenDelayMs === 0 ? min : Math.min(max, itf.reopenDelayMs * 2);
    itf.reopenTimer = setTimeout(() => this.reopen(itf), itf.reopenDelayMs);
    itf.reopenTimer.unref?.();
  }

  private reopen(itf: CanInterface): void {
    itf.reopenTimer = null;
    if (this.closed) return;
    itf.status.reopenAttempts++;
    if (!interfaceIsUp(itf.status.iface)) {
      itf.status.lastError = diagnoseInterface(itf.status.iface) ?? `interface ${itf.status.iface} is down`;
      this.scheduleReopen(itf);
      return;
    }
    try {
      this.openChannel(itf, loadSocketcanAddon());
    } catch (error) {
      itf.status.lastError = (error as Error).message;
      this.scheduleReopen(itf);
      return;
    }
    itf.status.lastError = undefined;
    this.options.onInterfaceState?.({ iface: itf.status.iface, bus: itf.status.bus, state: 'up' });
  }

  private stopChannel(itf: CanInterface): void {
    const channel = itf.channel;
    if (!channel) return;
    itf.channel = null;
    itf.stopping = channel;
    try {
      channel.stop();
    } catch {
      // Already stopped by the addon (socket error): nothing left to stop.
    }
    itf.stopping = null;
  }
}
