/**
 * A channel on the project's own addon: when the socket is readable (libuv poll), the frames queued
 * in the kernel are read with recvmmsg straight into the driver's FrameBatch, up to DRAIN_BUDGET
 * frames a wake-up (a flood cannot starve the event loop: the poll fires again next turn), and
 * the batch is delivered at once. Nothing is allocated per frame or per wake-up.
 */
import type { OutgoingFrame } from '../can/can-driver.js';
import type { CanChannel, ChannelHost } from './can-channel.js';
import { explainSocketError, openNativeCanSocket, type NativeCanAddon, type NativeCanSocket, type NativeSocketError } from './native-can-socket.js';

/** Every error class (linux/can/error.h CAN_ERR_MASK): error frames are always counted. */
const CAN_ERR_MASK = 0x1fffffff;
/** Frames read per wake-up at most. */
const DRAIN_BUDGET = 8192;

export function openNativeChannel(lib: NativeCanAddon, host: ChannelHost): CanChannel {
  return new NativeChannel(lib, host);
}

class NativeChannel implements CanChannel {
  readonly canFd: boolean;
  readonly rcvbufBytes: number;
  private readonly socket: NativeCanSocket;
  private closed = false;
  private readonly onPoll = (error?: NativeSocketError) => (error ? this.fail(error) : this.drain());

  constructor(lib: NativeCanAddon, private readonly host: ChannelHost) {
    const filters = new Uint32Array(host.filters.length * 2);
    host.filters.forEach((f, i) => filters.set([f.id, f.mask], i * 2));
    this.socket = openNativeCanSocket(lib, host.iface, {
      filters,
      errorMask: CAN_ERR_MASK,
      deliverErrors: host.receiveErrorFrames,
      rcvbufBytes: host.rcvbufBytes,
      counters: host.counters,
    });
    const { batch } = host;
    this.socket.setTarget(batch.id, batch.len, batch.flags, batch.timeUs, batch.data);
    this.canFd = this.socket.canFd;
    this.rcvbufBytes = this.socket.rcvbufBytes;
    this.socket.poll(this.onPoll);
  }

  send(frame: OutgoingFrame): void {
    try {
      this.socket.send(frame.id, frame.flags ?? 0, frame.data);
    } catch (error) {
      const e = error as NativeSocketError;
      throw new Error(typeof e.code === 'string' ? explainSocketError(e) : e.message, { cause: e });
    }
  }

  syncCounters(): void {
    if (!this.closed) this.socket.syncDrops();
  }

  close(): void {
    this.syncCounters();
    this.closed = true;
    this.socket.close();
  }

  /** Reads until the queue is empty or the budget is spent, then delivers the batch. */
  private drain(): void {
    try {
      this.readQueued();
    } catch (error) {
      return this.fail(error as NativeSocketError);
    }
    this.host.flush();
  }

  /** Reads until the queue is empty or DRAIN_BUDGET frames were read; throws the socket's error. */
  private readQueued(): void {
    for (let budget = DRAIN_BUDGET; budget > 0 && !this.closed; ) {
      const n = this.readOnce(budget);
      if (n < 0) return;
      budget -= n;
    }
  }

  /**
   * One read into the free end of the batch (at most `max` frames): the frames read, or -1 when the
   * queue is now empty. Throws the socket's error after adding the frames read before it.
   */
  private readOnce(max: number): number {
    const { batch, busSlot } = this.host;
    const start = batch.count;
    const room = Math.min(batch.capacity - start, max);
    let n: number;
    let failure: NativeSocketError | undefined;
    try {
      n = this.socket.read(start, room);
    } catch (error) {
      failure = error as NativeSocketError;
      n = failure.framesRead ?? 0;
    }
    if (n > 0) {
      batch.bus.fill(busSlot, start, start + n);
      batch.count = start + n;
      this.host.received(start); // delivers the batch when full
    }
    if (failure) throw failure;
    return n < room ? -1 : n;
  }

  /** The socket failed: frames the kernel still holds are delivered, then the channel closes and reports why. */
  private fail(error: NativeSocketError): void {
    if (this.closed) return;
    try {
      this.readQueued();
    } catch {
      // A second error (the interface is gone): nothing more to read.
    }
    this.host.flush();
    this.close();
    this.host.failed(typeof error.code === 'string' ? explainSocketError(error) : error.message, error.code);
  }
}
