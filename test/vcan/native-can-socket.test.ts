// The project's native SocketCAN reader (drivers/socketcan/native) on real vcan interfaces, against
// can-utils: what cansend/cangen put on the bus arrives with exact IDs, flags, payloads and the very
// kernel timestamps candump prints; kernel filters, error frames, batched reads and the kernel's drop
// count; frames it sends are what candump sees; interface down/removed surface as ENETDOWN/ENODEV.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFrameBatch, framePayload, FrameFlag, type FrameBatch } from '../../drivers/can/frame-batch.js';
import {
  loadNativeCanAddon,
  openNativeCanSocket,
  SocketCounter,
  type NativeCanSocket,
  type NativeCanSocketOptions,
  type NativeSocketError,
} from '../../drivers/socketcan/native-can-socket.js';
import { Candump, candumpFrame } from './candump.js';
import { cansend, requireVcan, setCanMtu, until } from './vcan-env.js';

const run = promisify(execFile);
const { EXTENDED, FD, BRS, ESI, RTR, ERROR } = FrameFlag;
const CAN_EFF_FLAG = 0x80000000;
const ALL_ERRORS = 0x1fffffff;

interface Frame {
  id: number;
  flags: number;
  data: number[];
  timeUs: number;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  requireVcan('vcan0');
  requireVcan('vcan1');
});



function framesOf(batch: FrameBatch, count: number): Frame[] {
  return Array.from({ length: count }, (_, i) => ({ id: batch.id[i], flags: batch.flags[i], data: [...framePayload(batch, i)], timeUs: batch.timeUs[i] }));
}

/** A native socket (closed after the test), reading into its own batch. */
function open(iface: string, options: NativeCanSocketOptions = {}): { socket: NativeCanSocket; batch: FrameBatch } {
  const socket = openNativeCanSocket(loadNativeCanAddon(), iface, options);
  cleanups.push(() => socket.close());
  const batch = createFrameBatch(256);
  socket.setTarget(batch.id, batch.len, batch.flags, batch.timeUs, batch.data);
  return { socket, batch };
}

/** A polled native socket: what it reads lands in `frames`, a failure in `errors`. */
function receiver(iface: string, options: NativeCanSocketOptions = {}): { socket: NativeCanSocket; frames: Frame[]; errors: NativeSocketError[]; reads: number[] } {
  const { socket, batch } = open(iface, options);
  const frames: Frame[] = [];
  const errors: NativeSocketError[] = [];
  const reads: number[] = [];
  socket.poll((error) => {
    if (error) return void errors.push(error);
    for (;;) {
      const n = socket.read(0, batch.capacity);
      reads.push(n);
      frames.push(...framesOf(batch, n));
      if (n < batch.capacity) return;
    }
  });
  return { socket, frames, errors, reads };
}

const PROBE = '7FF#';

/** candump -L on `spec` (an interface, with candump's filter syntax after a comma); its probe frames are left out. */
async function candump(spec: string): Promise<{ lines: () => string[] }> {
  const iface = spec.split(',')[0];
  const dump = await Candump.start([spec], `${iface} ${PROBE}`, () => cansend(iface, PROBE));
  cleanups.push(() => dump.stop());
  return { lines: () => dump.lines.filter((l) => candumpFrame(l) !== `${iface} ${PROBE}`) };
}

/** Frames other than candump's probe (a late one can reach a socket opened after candump started). */
const notProbe = (f: Frame) => !(f.id === 0x7ff && f.flags === 0 && f.data.length === 0);

/** "(1700000000.123456) vcan0 123#..." -> 1700000000123456 (µs, from the digits). */
function candumpTimeUs(line: string): number {
  const [, sec, usec] = /^\((\d+)\.(\d{6})\)/.exec(line)!;
  return Number(sec) * 1e6 + Number(usec);
}

const bytes = (n: number, value: number) => new Array<number>(n).fill(value);

describe('native SocketCAN reader on vcan (VM)', () => {
  it('receives classic, 29-bit, remote, CAN FD and error frames with the kernel times candump prints', async () => {
    const dump = await candump('vcan0,#1FFFFFFF'); // with every error class
    const rx = receiver('vcan0', { errorMask: ALL_ERRORS, deliverErrors: true });
    expect(rx.socket).toMatchObject({ iface: 'vcan0', mtu: 72, canFd: true });
    const sent = ['123#DEADBEEF', '1ABCDE00#0102', '123#R', '7E0#R4', '456##1' + '11'.repeat(64), '457##2' + '22'.repeat(12), '458##0' + '33'.repeat(8), '20000080#0000000000000000'];
    for (const frame of sent) await cansend('vcan0', frame);
    const frames = () => rx.frames.filter(notProbe);
    await until('8 frames in the reader and candump', () => frames().length >= 8 && dump.lines().length >= 8);

    expect(frames().map((f) => [f.id, f.flags, f.data])).toEqual([
      [0x123, 0, [0xde, 0xad, 0xbe, 0xef]],
      [0x1abcde00, EXTENDED, [1, 2]],
      [0x123, RTR, []],
      [0x7e0, RTR, [0, 0, 0, 0]],
      [0x456, FD | BRS, bytes(64, 0x11)],
      [0x457, FD | ESI, bytes(12, 0x22)],
      [0x458, FD, bytes(8, 0x33)],
      [0x80, ERROR, bytes(8, 0)],
    ]);
    // The same skb timestamps candump reads with SO_TIMESTAMP, to the microsecond.
    expect(frames().map((f) => f.timeUs)).toEqual(dump.lines().map(candumpTimeUs));
    expect(rx.errors).toEqual([]);
    expect([...rx.socket.counters]).toEqual([rx.frames.length, 1, 0, 0]); // frames, error frames, kernel drops, bad reads
  });

  it('passes only what its kernel filters let through, and counts error frames it does not deliver', async () => {
    // 11-bit 0x100-0x10F (the EFF flag in the mask keeps 29-bit frames with those bits out), and exactly 29-bit 0x18FEF100.
    const filters = Uint32Array.of(0x100, 0x7f0 | CAN_EFF_FLAG, 0x18fef100 | CAN_EFF_FLAG, 0x1fffffff | CAN_EFF_FLAG);
    const rx = receiver('vcan0', { filters, errorMask: ALL_ERRORS, deliverErrors: false });
    for (const frame of ['0FF#01', '100#02', '10F#03', '110#04', '7FF#05', '00000100#06', '18FEF100#07', '18FEF101#08', '20000004#0004000000000000', '105#454E44']) {
      await cansend('vcan0', frame);
    }
    await until('the last frame', () => rx.frames.some((f) => f.id === 0x105));
    expect(rx.frames.map((f) => [f.id, f.flags, f.data])).toEqual([
      [0x100, 0, [2]],
      [0x10f, 0, [3]],
      [0x18fef100, EXTENDED, [7]],
      [0x105, 0, [0x45, 0x4e, 0x44]],
    ]);
    expect(rx.socket.counters[SocketCounter.ERROR_FRAMES]).toBe(1);
  });

  it('reads a queue in batches (a short read means drained) and counts what a full queue dropped', async () => {
    // The smallest receive queue the kernel allows, not read while cangen writes 400 frames.
    const { socket, batch } = open('vcan0', { rcvbufBytes: 1 });
    const tx0 = Number((await run('cat', ['/sys/class/net/vcan0/statistics/tx_packets'])).stdout);
    await run('cangen', ['vcan0', '-g', '0', '-n', '400', '-I', '321', '-L', '8', '-D', 'i']);
    const sent = Number((await run('cat', ['/sys/class/net/vcan0/statistics/tx_packets'])).stdout) - tx0;
    expect(sent).toBe(400);

    const received: Frame[] = [];
    const reads: number[] = [];
    for (;;) {
      const n = socket.read(0, 16);
      reads.push(n);
      received.push(...framesOf(batch, n));
      if (n < 16) break;
    }
    // SO_RXQ_OVFL would tell the drops with the next frame; syncDrops() asks the kernel now.
    expect(socket.counters[SocketCounter.KERNEL_DROPS]).toBe(0);
    socket.syncDrops();
    const drops = socket.counters[SocketCounter.KERNEL_DROPS];
    expect(received.length).toBeGreaterThan(0);
    expect(drops).toBeGreaterThan(0);
    expect(received.length + drops).toBe(400);
    expect(reads.slice(0, -1).every((n) => n === 16)).toBe(true);
    expect(received.every((f) => f.id === 0x321 && f.data.length === 8)).toBe(true);
    // cangen -D i counts up in the payload: what arrived is in order, with gaps where frames were dropped.
    const counts = received.map((f) => f.data[0] + 256 * f.data[1]);
    expect(counts.every((c, i) => i === 0 || c > counts[i - 1])).toBe(true);

    // The next frame carries the same count (SO_RXQ_OVFL): it is not counted twice.
    await cansend('vcan0', '322#01');
    expect(socket.read(0, 16)).toBe(1);
    expect(socket.counters[SocketCounter.KERNEL_DROPS]).toBe(drops);
  });

  it('sends classic, 29-bit, remote and CAN FD (BRS, ESI) frames that candump prints', async () => {
    const dump = await candump('vcan0');
    const { socket } = open('vcan0');
    socket.send(0x123, 0, Uint8Array.of(1, 2, 3));
    socket.send(0x18daf110, EXTENDED, Uint8Array.of(9));
    socket.send(0x7e0, RTR, new Uint8Array(4));
    socket.send(0x456, FD | BRS, new Uint8Array(20).fill(7));
    socket.send(0x457, FD | ESI, new Uint8Array(12).fill(1));
    await until('candump output', () => dump.lines().length >= 5);
    // 6.x kernels add CANFD_FDF (4) to the flags nibble after "##".
    expect(dump.lines().map((l) => candumpFrame(l).replace(/##([0-9A-F])/, (_, n: string) => `##${parseInt(n, 16) & 3}`))).toEqual([
      'vcan0 123#010203',
      'vcan0 18DAF110#09',
      'vcan0 7E0#R4',
      'vcan0 456##1' + '07'.repeat(20),
      'vcan0 457##2' + '01'.repeat(12),
    ]);
    expect(() => socket.send(0x456, FD, new Uint8Array(65))).toThrow(/send \(CAN FD frame\) failed: .*EMSGSIZE/);
    expect(() => socket.send(0x123, 0, new Uint8Array(9))).toThrow(/EMSGSIZE/);
    socket.close();
    expect(() => socket.send(0x123, 0, new Uint8Array(1))).toThrow('CAN socket is closed');
  });

  it('refuses CAN FD on an interface whose MTU is classic', async () => {
    await setCanMtu('vcan1', 16);
    cleanups.push(() => setCanMtu('vcan1', 72));
    const { socket } = open('vcan1');
    expect(socket).toMatchObject({ mtu: 16, canFd: false });
    expect(() => socket.send(0x1, FD, new Uint8Array(12))).toThrow(/vcan1: send \(CAN FD frame\) failed: .*EOPNOTSUPP/);
    socket.send(0x1, 0, new Uint8Array(8));
  });

  it('reports ENETDOWN when the interface goes down, ENODEV when it is removed', async () => {
    cleanups.push(async () => {
      await run('ip', ['link', 'add', 'dev', 'vcan1', 'type', 'vcan']).catch(() => {});
      await run('ip', ['link', 'set', 'vcan1', 'up']);
    });
    const down = receiver('vcan1');
    await run('ip', ['link', 'set', 'vcan1', 'down']);
    await until('the poll error', () => down.errors.length > 0);
    expect(down.errors).toHaveLength(1);
    expect(down.errors[0]).toMatchObject({ code: 'ENETDOWN', syscall: 'receive', iface: 'vcan1', message: 'vcan1: receive failed: Network is down (ENETDOWN)' });
    await run('ip', ['link', 'set', 'vcan1', 'up']);

    // Removing an interface takes it down first: ENETDOWN, then ENODEV once it is unregistered
    // (the poll reports the first error the kernel holds; a read then reports the next).
    const removed = receiver('vcan1');
    await run('ip', ['link', 'del', 'vcan1']);
    await until('the poll error', () => removed.errors.length > 0);
    const codes = removed.errors.map((e) => e.code);
    await until('ENODEV', () => {
      try {
        removed.socket.read(0, 1);
      } catch (error) {
        codes.push((error as NativeSocketError).code);
      }
      return codes.includes('ENODEV');
    });
    expect(codes.every((c) => c === 'ENETDOWN' || c === 'ENODEV')).toBe(true);
  });

  it('still holds the frames queued before the interface went down, after reporting it', async () => {
    const { socket, batch } = open('vcan1');
    await cansend('vcan1', '101#01');
    await cansend('vcan1', '102#02');
    await run('ip', ['link', 'set', 'vcan1', 'down']);
    cleanups.push(() => run('ip', ['link', 'set', 'vcan1', 'up']));
    let error: NativeSocketError | undefined;
    try {
      socket.read(0, 16);
    } catch (e) {
      error = e as NativeSocketError;
    }
    expect(error).toMatchObject({ code: 'ENETDOWN', syscall: 'recvmmsg', framesRead: 0 });
    const n = socket.read(0, 16);
    expect(framesOf(batch, n).map((f) => [f.id, f.data])).toEqual([[0x101, [1]], [0x102, [2]]]);
  });

  it('names what is wrong when it cannot open', () => {
    const error = (iface: string) => {
      try {
        openNativeCanSocket(loadNativeCanAddon(), iface, {});
      } catch (e) {
        return (e as Error).message;
      }
      return 'opened';
    };
    expect(error('vcan9')).toBe('no such network interface "vcan9" (ENODEV)');
    expect(error('lo')).toBe('"lo" is not a CAN interface (bind: ENODEV)');
  });
});
