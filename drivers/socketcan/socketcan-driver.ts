/**
 * A CanDriver on Linux SocketCAN: one CAN_RAW socket per interface, all delivering into one shared
 * FrameBatch. Two backends (can-channel.ts), picked once at open():
 *   - `native`: the project's addon (native/can_socket.c): recvmmsg in batches straight into the
 *     batch, kernel receive timestamps, FD/BRS/ESI flags, the kernel's drop count; the batch is
 *     delivered each time the socket has been drained.
 *   - `addon`: the socketcan npm addon, a callback per frame (addon-channel.ts says what it cannot
 *     tell); the batch is delivered once per turn of the event loop or when full.
 * `backend: 'auto'` (the default) takes the native reader when it loads, else the addon;
 * interfaceStatus() and `backend` say which.
 *
 * Filters: `rxIds` (the IDs the DBCs of that bus define) become kernel filters (rx-filters.ts); no
 * list means every frame. Error frames are counted in stats().errorFrames and delivered only with
 * `receiveErrorFrames` (FrameFlag.ERROR, id = error class bits, 8 data bytes as in linux/can/error.h).
 *
 * Interface down/up: when the kernel reports an error on a socket (ENETDOWN: interface down; ENODEV:
 * removed), the driver marks the interface down, calls `onInterfaceState` with the reason, and reopens
 * it with backoff (checking /sys/class/net/<if>/flags for IFF_UP first) without the agent restarting.
 * While an interface is down, send() on its bus rejects.
 *
 * Sending uses non-blocking writes (a full transmit queue rejects instead of blocking the event loop).
 */
import { busIndex, createFrameBatch, FrameFlag, type FrameBatch } from '../can/frame-batch.js';
import type { CanDriver, DriverHealth, DriverStats, FrameSink, OutgoingFrame } from '../can/can-driver.js';
import { frameProblem } from '../can/frame-check.js';
import type { CanChannel, ChannelHost, SocketCanBackend } from './can-channel.js';
import { pickBackend, type ChannelBackend } from './pick-backend.js';
import { diagnoseInterface, interfaceIsUp } from './interface-sysfs.js';
import { SOCKET_COUNTERS, SocketCounter } from './native-can-socket.js';
import { buildRxFilters, dropUnwanted, wantedKey, type CanFilter, type RxId } from './rx-filters.js';

export { loadSocketcanAddon, type AddonMessage } from './addon-channel.js';
export { diagnoseInterface } from './interface-sysfs.js';
export type { SocketCanBackend } from './can-channel.js';

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
  /** `native`, `addon`, or `auto` (default): the native reader when it loads, else the socketcan addon. */
  backend?: SocketCanBackend | 'auto';
  /** Deliver error frames to the sink (they are always counted). Default false. */
  receiveErrorFrames?: boolean;
  /** Frames per batch. Default 1024. */
  batchCapacity?: number;
  /**
   * Receive buffer asked for per socket (native backend), bytes; 0: the kernel's default. Default 1 MiB.
   * Beyond net.core.rmem_max only with CAP_NET_ADMIN (interfaceStatus().rcvbufBytes says what was granted).
   */
  rcvbufBytes?: number;
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
  /** The errno name behind a 'down' event when the backend tells it (ENETDOWN, ENODEV). */
  code?: string;
}

export interface InterfaceStatus {
  iface: string;
  bus: string;
  state: InterfaceState;
  /** The backend reading it (undefined before open()). */
  backend?: SocketCanBackend;
  /** Whether the interface's MTU carries CAN FD frames (72 bytes). */
  fd: boolean;
  /** Kernel filters set (0 = every frame), and whether they pass exactly the IDs asked for. */
  filters: number;
  exactFilters: boolean;
  framesIn: number;
  framesOut: number;
  errorFrames: number;
  /** Frames the kernel dropped on a full receive queue (native backend only). */
  kernelDrops?: number;
  /** Receive buffer granted by the kernel, bytes (native backend only). */
  rcvbufBytes?: number;
  /** Times the interface went down, and reopen attempts made since. */
  downEvents: number;
  reopenAttempts: number;
  lastError?: string;
}

/** What the interfaces need from the driver. */
interface DriverCore {
  readonly stats: DriverStats;
  flush(): void;
  flushSoon(): void;
  interfaceFailed(itf: CanInterface, reason: string, code?: string): void;
}

/** One interface: its channel (while up), filters and counters; the host of its channels. */
class CanInterface implements ChannelHost {
  readonly status: InterfaceStatus;
  readonly iface: string;
  readonly filters: readonly CanFilter[];
  readonly counters = new Float64Array(SOCKET_COUNTERS);
  readonly busSlot: number;
  channel: CanChannel | null = null;
  reopenTimer: NodeJS.Timeout | null = null;
  reopenDelayMs = 0;
  /** When the kernel filters pass more than asked for: the wanted IDs (wantedKey). */
  private readonly wanted: Set<number> | null;

  constructor(
    options: SocketCanInterfaceOptions,
    readonly batch: FrameBatch,
    readonly receiveErrorFrames: boolean,
    readonly rcvbufBytes: number,
    private readonly core: DriverCore,
  ) {
    const plan = buildRxFilters(options.rxIds ?? []);
    this.iface = options.iface;
    this.filters = plan.filters;
    this.wanted = plan.exact ? null : new Set((options.rxIds ?? []).map((r) => wantedKey(r.id, r.extended)));
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
    this.busSlot = busIndex(batch, this.status.bus);
  }

  received(from: number): void {
    const batch = this.batch;
    if (this.wanted) batch.count = dropUnwanted(batch, from, this.wanted);
    const n = batch.count - from;
    this.status.framesIn += n;
    this.core.stats.framesIn += n;
    if (batch.count === batch.capacity) this.core.flush();
  }

  flush(): void {
    this.core.flush();
  }

  flushSoon(): void {
    this.core.flushSoon();
  }

  failed(reason: string, code?: string): void {
    this.core.interfaceFailed(this, reason, code);
  }
}

function reportError(error: Error): void {
  process.emitWarning(error);
}

export class SocketCanDriver implements CanDriver {
  readonly name: string;
  private readonly batch: FrameBatch;
  private readonly interfaces: CanInterface[];
  private readonly byBus = new Map<string, CanInterface>();
  private readonly counters: DriverStats = { framesIn: 0, framesOut: 0, errorFrames: 0, badInput: 0 };
  private channelBackend: ChannelBackend | null = null;
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
    this.batch = createFrameBatch(options.batchCapacity ?? 1024);
    const core: DriverCore = {
      stats: this.counters,
      flush: () => this.flush(),
      flushSoon: () => {
        if (this.flushScheduled) return;
        this.flushScheduled = true;
        setImmediate(this.flushNow);
      },
      interfaceFailed: (itf, reason, code) => this.interfaceFailed(itf, reason, code),
    };
    const rcvbuf = options.rcvbufBytes ?? 1 << 20;
    this.interfaces = options.interfaces.map((o) => new CanInterface(o, this.batch, options.receiveErrorFrames ?? false, rcvbuf, core));
    for (const itf of this.interfaces) {
      if (this.byBus.has(itf.status.bus)) throw new Error(`socketcan: bus ${itf.status.bus} is given twice`);
      this.byBus.set(itf.status.bus, itf);
    }
    this.name = `socketcan:${this.interfaces.map((i) => i.status.iface).join(',')}`;
  }

  /** The backend chosen at open() (undefined before). */
  get backend(): SocketCanBackend | undefined {
    return this.channelBackend?.name;
  }

  /** Why `auto` fell back to the socketcan addon, when it did. */
  get backendFallbackReason(): string | undefined {
    return this.channelBackend?.fallbackReason;
  }

  /** Opens every interface; rejects (closing the others) when one cannot be opened at all. */
  async open(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`${this.name}: already open`);
    if (this.closed) throw new Error(`${this.name}: closed`);
    this.channelBackend = pickBackend(this.options.backend ?? 'auto');
    this.sink = sink;
    try {
      for (const itf of this.interfaces) this.openChannel(itf);
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
      if (flags & FrameFlag.FD && !itf.status.fd) throw new Error(`${this.name}: cannot send a CAN FD frame on ${itf.iface}: its MTU does not carry CAN FD`);
      if (!itf.channel) throw new Error(`${this.name}: cannot send on ${frame.bus}: interface ${itf.iface} is down${itf.status.lastError ? ` (${itf.status.lastError})` : ''}`);
    }
    for (const frame of frames) {
      const itf = this.byBus.get(frame.bus)!;
      try {
        itf.channel!.send(frame);
      } catch (error) {
        throw new Error(`${this.name}: sending 0x${frame.id.toString(16)} on ${itf.iface} failed: ${(error as Error).message}`, { cause: error });
      }
      itf.status.framesOut++;
      this.counters.framesOut++;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const itf of this.interfaces) {
      if (itf.reopenTimer) clearTimeout(itf.reopenTimer);
      itf.reopenTimer = null;
      itf.channel?.close();
      itf.channel = null;
      itf.status.state = 'closed';
    }
    if (this.sink && this.batch.count > 0) this.flush();
    this.sink = null;
  }

  stats(): DriverStats {
    let errorFrames = 0;
    let badFrames = 0;
    for (const itf of this.interfaces) {
      errorFrames += itf.counters[SocketCounter.ERROR_FRAMES];
      badFrames += itf.counters[SocketCounter.BAD_FRAMES];
    }
    return { ...this.counters, errorFrames, badInput: this.counters.badInput + badFrames };
  }

  /** Reading while every interface is up; reopening while one is down (it is retried until close()). */
  health(): DriverHealth {
    if (this.closed) return { state: 'closed' };
    const down = this.interfaces.filter((itf) => itf.status.state !== 'up');
    if (down.length === 0) return { state: 'reading' };
    return { state: 'reopening', detail: down.map((itf) => `${itf.iface}: ${itf.status.lastError ?? 'down'}`).join('; ') };
  }

  /** Per-interface state and counters. */
  interfaceStatus(): InterfaceStatus[] {
    return this.interfaces.map((itf) => {
      itf.channel?.syncCounters();
      const status: InterfaceStatus = { ...itf.status, backend: this.backend, errorFrames: itf.counters[SocketCounter.ERROR_FRAMES] };
      if (this.backend === 'native') status.kernelDrops = itf.counters[SocketCounter.KERNEL_DROPS];
      return status;
    });
  }

  /** Batches whose sink threw (see onError). */
  get failedDeliveries(): number {
    return this.sinkErrors;
  }

  private openChannel(itf: CanInterface): void {
    let channel: CanChannel;
    try {
      channel = this.channelBackend!.open(itf);
    } catch (error) {
      const why = diagnoseInterface(itf.iface) ?? (error as Error).message;
      throw new Error(`socketcan: cannot open CAN interface "${itf.iface}": ${why}`, { cause: error });
    }
    itf.channel = channel;
    itf.status.fd = channel.canFd;
    itf.status.rcvbufBytes = channel.rcvbufBytes;
    itf.status.state = 'up';
  }

  /**
   * Hands the batch to the sink. This runs inside a backend's callback or a setImmediate, where an
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

  /** A channel failed (it has closed itself): the interface is down until a reopen succeeds. */
  private interfaceFailed(itf: CanInterface, reason: string, code?: string): void {
    itf.channel = null;
    if (this.closed) return;
    itf.status.state = 'down';
    itf.status.downEvents++;
    itf.status.lastError = reason;
    itf.reopenDelayMs = 0;
    this.options.onInterfaceState?.({ iface: itf.iface, bus: itf.status.bus, state: 'down', reason, ...(code ? { code } : {}) });
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
    if (!interfaceIsUp(itf.iface)) {
      itf.status.lastError = diagnoseInterface(itf.iface) ?? `interface ${itf.iface} is down`;
      this.scheduleReopen(itf);
      return;
    }
    try {
      this.openChannel(itf);
    } catch (error) {
      itf.status.lastError = (error as Error).message;
      this.scheduleReopen(itf);
      return;
    }
    itf.status.lastError = undefined;
    this.options.onInterfaceState?.({ iface: itf.iface, bus: itf.status.bus, state: 'up' });
  }
}
