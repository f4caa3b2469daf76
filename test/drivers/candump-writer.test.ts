import { describe, expect, it } from 'vitest';
import { createFrameBatch, framePayload, FrameFlag, pushFrame } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { formatCandumpBatchLine, formatCandumpLine } from '../../drivers/replay/candump-writer.js';

const { EXTENDED, FD, BRS, ESI, RTR, ERROR } = FrameFlag;

describe('formatCandumpLine', () => {
  it('writes the lines candump -L writes', () => {
    expect(formatCandumpLine(1436509052249713, 'can0', 0x123, 0, [0xde, 0xad, 0xbe, 0xef])).toBe('(1436509052.249713) can0 123#DEADBEEF');
    expect(formatCandumpLine(166_000_000, 'vcan0', 0xf1, 0, [])).toBe('(0000000166.000000) vcan0 0F1#');
    expect(formatCandumpLine(1, 'can1', 0x770000, EXTENDED, [1, 2])).toBe('(0000000000.000001) can1 00770000#0102');
    expect(formatCandumpLine(0, 'can0', 0x7ff, RTR, [])).toBe('(0000000000.000000) can0 7FF#R');
    expect(formatCandumpLine(0, 'can0', 0x7ff, RTR, [0, 0, 0, 0])).toBe('(0000000000.000000) can0 7FF#R4');
    expect(formatCandumpLine(0, 'can0', 0x123, FD | BRS, new Uint8Array(12).fill(0x11))).toBe('(0000000000.000000) can0 123##1' + '11'.repeat(12));
    expect(formatCandumpLine(0, 'can0', 0x123, FD | BRS | ESI | EXTENDED, [])).toBe('(0000000000.000000) can0 00000123##3');
    expect(formatCandumpLine(0, 'can0', 0x80, ERROR, new Uint8Array(8))).toBe('(0000000000.000000) can0 20000080#0000000000000000');
  });

  it('refuses frames CAN cannot carry', () => {
    expect(() => formatCandumpLine(0, 'can0', 0x800, 0, [])).toThrow(/11-bit CAN ID 0x800/);
    expect(() => formatCandumpLine(0, 'can0', 0x20000000, EXTENDED, [])).toThrow(/29-bit CAN ID 0x20000000/);
    expect(() => formatCandumpLine(0, 'can0', 1, 0, new Uint8Array(9))).toThrow(/exceeds 8/);
    expect(() => formatCandumpLine(0, 'can0', 1, FD, new Uint8Array(9))).toThrow(/CAN FD length 9/);
    expect(() => formatCandumpLine(1.5, 'can0', 1, 0, [])).toThrow(/integer/);
    expect(() => formatCandumpLine(0, 'can 0', 1, 0, [])).toThrow(/bus name/);
  });

  it('round-trips every kind of frame through the parser', () => {
    // A deterministic pseudo-random mix of frame kinds, buses, IDs, lengths and payloads.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const fdLengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];
    const written = createFrameBatch(2000);
    let time = 1_700_000_000_000_000;
    for (let k = 0; k < written.capacity; k++) {
      const kind = rand(5);
      const extended = rand(2) === 1;
      let flags = 0;
      let len: number;
      let id = extended ? rand(0x20000000) : rand(0x800);
      if (kind === 0) {
        flags = FD | (rand(2) ? BRS : 0) | (rand(2) ? ESI : 0);
        len = fdLengths[rand(fdLengths.length)];
      } else if (kind === 1) {
        flags = RTR;
        len = rand(9);
      } else if (kind === 2) {
        flags = ERROR;
        id = 1 << rand(10);
        len = 8;
      } else {
        len = rand(9);
      }
      if (extended && kind !== 2) flags |= EXTENDED;
      const data = Array.from({ length: len }, () => (flags & RTR ? 0 : rand(256)));
      time += rand(20_000);
      pushFrame(written, { bus: ['can0', 'can1', 'body'][rand(3)], id, flags, data, timeUs: time });
    }
    const lines = [];
    for (let i = 0; i < written.count; i++) lines.push(formatCandumpBatchLine(written, i));

    const read = createFrameBatch(256);
    const got: unknown[] = [];
    const parser = new CandumpParser(read, (b) => {
      for (let i = 0; i < b.count; i++) got.push([b.busNames[b.bus[i]], b.id[i], b.flags[i], b.timeUs[i], [...framePayload(b, i)]]);
    });
    parser.push(Buffer.from(lines.join('\n') + '\n'));
    parser.end();
    const want = [];
    for (let i = 0; i < written.count; i++) want.push([written.busNames[written.bus[i]], written.id[i], written.flags[i], written.timeUs[i], [...framePayload(written, i)]]);
    expect(parser.stats.badLines).toBe(0);
    expect(got).toEqual(want);
  });
});
