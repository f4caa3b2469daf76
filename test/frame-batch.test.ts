import { describe, expect, it } from 'vitest';
import { createFrameBatch, framePayload, FrameFlag, pushFrame, FRAME_STRIDE } from '../drivers/can/frame-batch.js';

describe('FrameBatch', () => {
  it('keeps frames of several buses apart by index into its bus table', () => {
    const batch = createFrameBatch(4);
    pushFrame(batch, { bus: 'can0', id: 0x123, data: [1, 2, 3], timeUs: 1 });
    pushFrame(batch, { bus: 'can1', id: 0x1abcdef, data: new Uint8Array(64).fill(7), flags: FrameFlag.EXTENDED | FrameFlag.FD });
    pushFrame(batch, { bus: 'can0', id: 0x7ff, data: [] });
    expect(batch.count).toBe(3);
    expect(batch.busNames).toEqual(['can0', 'can1']);
    expect([...batch.bus.subarray(0, 3)]).toEqual([0, 1, 0]);
    expect([...framePayload(batch, 0)]).toEqual([1, 2, 3]);
    expect(framePayload(batch, 1)).toHaveLength(FRAME_STRIDE);
    expect(batch.flags[1] & FrameFlag.FD).toBeTruthy();
  });

  it('refuses frames past its capacity and payloads over 64 bytes', () => {
    const batch = createFrameBatch(1);
    expect(() => pushFrame(batch, { bus: 'can0', id: 1, data: new Uint8Array(65) })).toThrow(/65 bytes/);
    pushFrame(batch, { bus: 'can0', id: 1, data: [] });
    expect(() => pushFrame(batch, { bus: 'can0', id: 2, data: [] })).toThrow(/full/);
  });
});
