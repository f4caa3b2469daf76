// The project's native SocketCAN reader where the kernel has no CAN: it loads, agrees with
// frame-batch.ts, checks its arguments, and fails clearly when it cannot open a socket. Receiving,
// sending, filters and interface failures run against vcan in the VM suite (test/vcan/native-can-socket.test.ts).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FrameFlag } from '../../drivers/can/frame-batch.js';
import { explainSocketError, loadNativeCanAddon, openNativeCanSocket, type NativeSocketError } from '../../drivers/socketcan/native-can-socket.js';

const kernelHasCan = existsSync('/proc/net/can');

function thrown(fn: () => unknown): NativeSocketError {
  try {
    fn();
  } catch (error) {
    return error as NativeSocketError;
  }
  throw new Error('expected an error');
}

describe('native SocketCAN reader', () => {
  it('loads, with the FrameFlag bits of frame-batch.ts', () => {
    const addon = loadNativeCanAddon();
    expect(typeof addon.CanSocket).toBe('function');
    expect(addon.FRAME_FLAGS).toEqual({ ...FrameFlag });
  });

  it.skipIf(existsSync('/sys/class/net/vcan9'))('names a missing interface', () => {
    const { CanSocket } = loadNativeCanAddon();
    const raw = thrown(() => new CanSocket('vcan9'));
    expect(raw).toMatchObject({ code: 'ENODEV', syscall: 'if_nametoindex', iface: 'vcan9', message: 'vcan9: if_nametoindex failed: No such device (ENODEV)' });
    const explained = thrown(() => openNativeCanSocket(loadNativeCanAddon(), 'vcan9', {}));
    expect(explained.message).toBe('no such network interface "vcan9" (ENODEV)');
    expect(explained.code).toBe('ENODEV');
  });

  it.skipIf(kernelHasCan)('says the kernel has no SocketCAN when socket(PF_CAN) fails', () => {
    // lo exists everywhere, so opening gets past the interface lookup to socket(PF_CAN, ...).
    const raw = thrown(() => new (loadNativeCanAddon().CanSocket)('lo'));
    expect(raw).toMatchObject({ code: 'EAFNOSUPPORT', syscall: 'socket(PF_CAN, SOCK_RAW, CAN_RAW)', iface: 'lo' });
    expect(raw.message).toBe('lo: socket(PF_CAN, SOCK_RAW, CAN_RAW) failed: Address family not supported by protocol (EAFNOSUPPORT)');
    const explained = thrown(() => openNativeCanSocket(loadNativeCanAddon(), 'lo', {}));
    expect(explained.message).toBe('this kernel has no SocketCAN support: socket(PF_CAN, SOCK_RAW, CAN_RAW) fails with EAFNOSUPPORT (load the can and can_raw modules)');
  });

  it('refuses bad arguments before touching the kernel', () => {
    const { CanSocket } = loadNativeCanAddon();
    expect(thrown(() => new CanSocket('a-name-over-15-bytes'))).toMatchObject({ code: 'EINVAL', message: 'CanSocket: an interface name has 1 to 15 bytes' });
    expect(thrown(() => new CanSocket(''))).toMatchObject({ code: 'EINVAL' });
    expect(thrown(() => new CanSocket(42 as unknown as string)).message).toBe('CanSocket: the interface name must be a string');
    expect(thrown(() => new CanSocket('lo', { filters: new Uint32Array(3) })).message).toBe('CanSocket: filters must hold id, mask pairs');
    expect(thrown(() => new CanSocket('lo', { filters: [1, 2] as unknown as Uint32Array })).message).toMatch(/filters must be a Uint32Array/);
    expect(thrown(() => new CanSocket('lo', { counters: new Float64Array(2) })).message).toBe('CanSocket: counters needs 4 slots');
  });

  it('puts socket errors in words, keeping the errno name', () => {
    const error = (code: string, syscall: string): NativeSocketError => Object.assign(new Error(`vcan1: ${syscall} failed (${code})`), { code, syscall, iface: 'vcan1' });
    expect(explainSocketError(error('ENETDOWN', 'receive'))).toBe('interface vcan1 is down (ENETDOWN)');
    expect(explainSocketError(error('ENODEV', 'recvmmsg'))).toBe('interface vcan1 is gone (ENODEV)');
    expect(explainSocketError(error('ENODEV', 'bind'))).toBe('"vcan1" is not a CAN interface (bind: ENODEV)');
    expect(explainSocketError(error('ENOBUFS', 'write'))).toBe('transmit queue full (ENOBUFS)');
    expect(explainSocketError(error('EPERM', 'write'))).toBe('vcan1: write failed (EPERM)');
  });
});
