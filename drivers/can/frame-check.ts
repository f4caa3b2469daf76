import { FrameFlag } from './frame-batch.js';

const FD_LENGTHS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);

/**
 * Why CAN cannot carry a frame with this ID, FrameFlag bits and payload length, or undefined when it
 * can. Shared by the candump writer and the drivers' send().
 */
export function frameProblem(id: number, flags: number, length: number): string | undefined {
  const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
  if (!Number.isInteger(id) || id < 0) return `bad CAN ID ${id}`;
  if (flags & FrameFlag.ERROR) {
    if (id > 0x1fffffff) return `error class ${hex(id)} exceeds 29 bits`;
  } else if (flags & FrameFlag.EXTENDED) {
    if (id > 0x1fffffff) return `29-bit CAN ID ${hex(id)} out of range`;
  } else if (id > 0x7ff) {
    return `11-bit CAN ID ${hex(id)} out of range (set FrameFlag.EXTENDED for a 29-bit ID)`;
  }
  if (flags & FrameFlag.RTR) {
    if (flags & FrameFlag.FD) return 'CAN FD frames have no remote request';
    if (length > 8) return `remote request DLC ${length} exceeds 8`;
  } else if (flags & FrameFlag.FD) {
    if (!FD_LENGTHS.has(length)) return `invalid CAN FD length ${length} (0-8, 12, 16, 20, 24, 32, 48 or 64)`;
  } else if (length > 8) {
    return `classic CAN payload of ${length} bytes exceeds 8 (set FrameFlag.FD for CAN FD)`;
  }
  if ((flags & (FrameFlag.BRS | FrameFlag.ESI)) && !(flags & FrameFlag.FD)) return 'BRS/ESI flags need FrameFlag.FD';
  return undefined;
}
