/**
 * Formats frames as `candump -L` log lines, the form canplayer and CandumpParser read:
 * `(1436509052.249713) can0 123#DEADBEEF`, `… 12345678#R`, `… 123##1<data>`, `… 20000080#<data>`.
 */
import { FRAME_STRIDE, FrameFlag, type FrameBatch } from '../can/frame-batch.js';
import { frameProblem } from '../can/frame-check.js';

const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).toUpperCase().padStart(2, '0'));

/**
 * One log line, without its newline. `timeUs` is integer microseconds (seconds printed with 10
 * digits as candump does); `flags` are FrameFlag bits. Throws on a frame CAN cannot carry.
 */
export function formatCandumpLine(timeUs: number, bus: string, id: number, flags: number, data: Uint8Array | ArrayLike<number>): string {
  if (!Number.isSafeInteger(timeUs) || timeUs < 0) throw new Error(`timeUs must be a non-negative integer, got ${timeUs}`);
  if (bus.length === 0 || /[\s#]/.test(bus)) throw new Error(`bad bus name ${JSON.stringify(bus)}`);
  const seconds = Math.floor(timeUs / 1e6);
  const micros = timeUs - seconds * 1e6;
  const time = `(${String(seconds).padStart(10, '0')}.${String(micros).padStart(6, '0')})`;
  return `${time} ${bus} ${formatFrameText(id, flags, data)}`;
}

/** Frame i of a batch as a log line. */
export function formatCandumpBatchLine(batch: FrameBatch, i: number): string {
  const start = i * FRAME_STRIDE;
  return formatCandumpLine(batch.timeUs[i], batch.busNames[batch.bus[i]], batch.id[i], batch.flags[i], batch.data.subarray(start, start + batch.len[i]));
}

/** `ID#data` part, as can-utils' sprint_canframe writes it. */
function formatFrameText(id: number, flags: number, data: Uint8Array | ArrayLike<number>): string {
  const problem = frameProblem(id, flags, data.length);
  if (problem !== undefined) throw new Error(`cannot write frame: ${problem}`);
  let text: string;
  if (flags & FrameFlag.ERROR) text = ((id | 0x20000000) >>> 0).toString(16).toUpperCase().padStart(8, '0');
  else if (flags & FrameFlag.EXTENDED) text = id.toString(16).toUpperCase().padStart(8, '0');
  else text = id.toString(16).toUpperCase().padStart(3, '0');
  if (flags & FrameFlag.RTR) return `${text}#R${data.length > 0 ? data.length : ''}`;
  if (flags & FrameFlag.FD) {
    const fdFlags = (flags & FrameFlag.BRS ? 1 : 0) | (flags & FrameFlag.ESI ? 2 : 0);
    text += `##${fdFlags.toString(16).toUpperCase()}`;
  } else {
    text += '#';
  }
  for (let k = 0; k < data.length; k++) text += HEX_BYTE[data[k]];
  return text;
}
