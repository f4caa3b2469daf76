/**
 * A deliberately naive DBC signal reader for tests: walks the payload bit by bit in the order the DBC
 * specification describes (Intel: up from the start bit; Motorola: down from the start bit, jumping
 * to bit 7 of the next byte after bit 0) and assembles the value with BigInt. It shares no code with
 * the compiled decoder, so agreeing with it means something.
 */
import type { DbcMessage, DbcSignal } from '../../agent/decode/dbc-types.js';

/** Payload bit positions (byte * 8 + bit) from the signal's MSB down to its LSB. */
export function bitPositionsMsbFirst(signal: DbcSignal): number[] {
  const positions: number[] = [];
  if (signal.byteOrder === 'little_endian') {
    for (let i = signal.length - 1; i >= 0; i--) positions.push(signal.startBit + i);
    return positions;
  }
  let pos = signal.startBit;
  for (let i = 0; i < signal.length; i++) {
    positions.push(pos);
    pos = pos % 8 === 0 ? pos + 15 : pos - 1;
  }
  return positions;
}

/** Raw bits of the signal as an unsigned BigInt, or undefined when a bit lies beyond the payload. */
export function referenceBits(payload: Uint8Array, signal: DbcSignal): bigint | undefined {
  let value = 0n;
  for (const pos of bitPositionsMsbFirst(signal)) {
    const byte = pos >> 3;
    if (byte >= payload.length) return undefined;
    value = (value << 1n) | BigInt((payload[byte] >> (pos & 7)) & 1);
  }
  return value;
}

/** Raw value: integer (two's complement when signed) or IEEE float. */
export function referenceRaw(payload: Uint8Array, signal: DbcSignal): number | undefined {
  const bits = referenceBits(payload, signal);
  if (bits === undefined) return undefined;
  const view = new DataView(new ArrayBuffer(8));
  if (signal.valueType === 'float32') {
    view.setUint32(0, Number(bits));
    return view.getFloat32(0);
  }
  if (signal.valueType === 'float64') {
    view.setBigUint64(0, bits);
    return view.getFloat64(0);
  }
  const L = BigInt(signal.length);
  const signedBits = signal.signed && bits >> (L - 1n) === 1n ? bits - (1n << L) : bits;
  return Number(signedBits);
}

/** Physical values of the signals present in `payload` (multiplexing and truncation applied), by name. */
export function referenceDecode(message: DbcMessage, payload: Uint8Array): Map<string, number> {
  const raws = new Map<string, number>();
  for (const s of message.signals) {
    const raw = referenceRaw(payload, s);
    if (raw !== undefined) raws.set(s.name, raw);
  }
  const byName = new Map(message.signals.map((s) => [s.name, s]));
  const present = (s: DbcSignal, depth = 0): boolean => {
    if (!raws.has(s.name) || depth > 16) return false;
    if (s.multiplexerSignal === undefined) return true;
    const mux = byName.get(s.multiplexerSignal);
    const muxRaw = raws.get(s.multiplexerSignal);
    if (!mux || muxRaw === undefined || !present(mux, depth + 1)) return false;
    return (s.multiplexerRanges ?? []).some(([lo, hi]) => muxRaw >= lo && muxRaw <= hi);
  };
  const values = new Map<string, number>();
  for (const s of message.signals) {
    if (!present(s)) continue;
    const raw = raws.get(s.name)!;
    // cantools: identity conversion when factor 1 and offset 0, else raw * factor + offset in doubles.
    values.set(s.name, s.factor === 1 && s.offset === 0 ? raw : raw * s.factor + s.offset);
  }
  return values;
}
