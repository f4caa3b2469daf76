/**
 * Where a signal's bits sit in the payload, as a list of per-byte segments. Both the decoder's code
 * generator and the encoder work from this one description, so they cannot disagree.
 *
 * Intel (`@1`): the start bit is the LSB; bit b of the payload is bit (b & 7) of byte (b >> 3).
 * Motorola (`@0`): the start bit is the MSB in the same numbering; the signal runs towards lower bits
 * of that byte, then on to bit 7 of the next byte ("sawtooth").
 */
import type { ByteOrder } from './dbc-types.js';

/** Largest payload (CAN FD) in bytes. */
export const MAX_PAYLOAD_BYTES = 64;

export interface BitSegment {
  /** Payload byte index. */
  byte: number;
  /** Lowest bit of the segment within the byte (0 = LSB). */
  shift: number;
  /** Number of bits (1..8). */
  bits: number;
  /** Position of the segment's lowest bit within the signal value (0 = LSB of the value). */
  pos: number;
}

/** The segments of a signal from least to most significant, or an error text when it does not fit a 64-byte payload. */
export function signalSegments(startBit: number, length: number, byteOrder: ByteOrder): BitSegment[] | string {
  if (!Number.isInteger(startBit) || startBit < 0) return `start bit ${startBit} is not a bit position`;
  if (!Number.isInteger(length) || length < 1 || length > 64) return `length ${length} is outside 1..64 bits`;
  const totalBits = MAX_PAYLOAD_BYTES * 8;
  const segments: BitSegment[] = [];
  if (byteOrder === 'little_endian') {
    const last = startBit + length - 1;
    if (last >= totalBits) return `bits ${startBit}..${last} do not fit in ${MAX_PAYLOAD_BYTES} bytes`;
    for (let byte = startBit >> 3; byte <= last >> 3; byte++) {
      const lo = Math.max(startBit, byte * 8);
      const hi = Math.min(last, byte * 8 + 7);
      segments.push({ byte, shift: lo & 7, bits: hi - lo + 1, pos: lo - startBit });
    }
    return segments;
  }
  // Motorola: number bits MSB-first ("sequential") so that the signal is a contiguous run q0..q1.
  const q0 = (startBit >> 3) * 8 + (7 - (startBit & 7));
  const q1 = q0 + length - 1;
  if (q1 >= totalBits) return `Motorola signal from bit ${startBit} over ${length} bits runs past ${MAX_PAYLOAD_BYTES} bytes`;
  for (let byte = q1 >> 3; byte >= q0 >> 3; byte--) {
    const qa = Math.max(q0, byte * 8); // most significant bit of the segment (sequential)
    const qb = Math.min(q1, byte * 8 + 7); // least significant
    segments.push({ byte, shift: 7 - (qb & 7), bits: qb - qa + 1, pos: q1 - qb });
  }
  return segments;
}

/** Highest payload byte index the segments touch (the payload must be longer than this to hold the signal). */
export function lastByte(segments: readonly BitSegment[]): number {
  let max = 0;
  for (const s of segments) if (s.byte > max) max = s.byte;
  return max;
}

/** Splits segments at value bit `at` (for assembling 64-bit values as two 32-bit halves). */
export function splitSegments(segments: readonly BitSegment[], at: number): { low: BitSegment[]; high: BitSegment[] } {
  const low: BitSegment[] = [];
  const high: BitSegment[] = [];
  for (const s of segments) {
    if (s.pos + s.bits <= at) low.push(s);
    else if (s.pos >= at) high.push({ ...s, pos: s.pos - at });
    else {
      const lowBits = at - s.pos;
      low.push({ byte: s.byte, shift: s.shift, bits: lowBits, pos: s.pos });
      high.push({ byte: s.byte, shift: s.shift + lowBits, bits: s.bits - lowBits, pos: 0 });
    }
  }
  return { low, high };
}
