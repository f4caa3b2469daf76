/**
 * Encodes signal values into a message payload (the command path and test generators; not per frame).
 * The inverse of the decoder: raw = (physical - offset) / factor, rounded half to even like cantools,
 * written into the same bit segments the decoder reads. Multiplexed signals are written only when
 * the multiplexer value given selects them.
 */
import { lastByte, signalSegments, splitSegments, type BitSegment } from './bit-layout.js';
import type { DbcMessage, DbcSignal } from './dbc-types.js';

export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

const TWO_32 = 4294967296;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Raw value of one signal from a physical number or a VAL_ label. */
export function rawValueOf(message: DbcMessage, signal: DbcSignal, value: number | string): number {
  let physical: number;
  if (typeof value === 'string') {
    if (signal.labels) for (const [raw, label] of signal.labels) if (label === value) return raw;
    physical = Number(value);
    if (value.trim() === '' || !Number.isFinite(physical)) {
      throw new EncodeError(`${message.name}.${signal.name}: '${value}' is neither a number nor a label of this signal`);
    }
  } else {
    physical = value;
  }
  if (Number.isNaN(physical)) throw new EncodeError(`${message.name}.${signal.name}: value is NaN`);
  const scaled = signal.factor === 1 && signal.offset === 0 ? physical : (physical - signal.offset) / signal.factor;
  if (signal.valueType !== 'int') return scaled;
  const raw = roundHalfEven(scaled);
  const L = signal.length;
  const min = signal.signed ? -(2 ** (L - 1)) : 0;
  const limit = signal.signed ? 2 ** (L - 1) : 2 ** L;
  // Above 53 bits the largest raw value is no double: the limit itself stands for it (writeRaw saturates).
  if (!(raw >= min && (raw < limit || (L > 53 && raw === limit)))) {
    throw new EncodeError(`${message.name}.${signal.name}: ${physical} needs raw ${raw}, outside the ${L}-bit ${signal.signed ? 'signed' : 'unsigned'} range`);
  }
  return raw;
}

function writeBits(payload: Uint8Array, segments: readonly BitSegment[], bits: number): void {
  for (const s of segments) {
    const mask = ((1 << s.bits) - 1) << s.shift;
    const field = ((bits >>> s.pos) << s.shift) & mask;
    payload[s.byte] = (payload[s.byte] & ~mask) | field;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** Writes a raw value (integer, or float for float32/float64 signals) into the payload. */
export function writeRaw(payload: Uint8Array, signal: DbcSignal, raw: number): void {
  const segments = signalSegments(signal.startBit, signal.length, signal.byteOrder) as BitSegment[];
  let lo: number;
  let hi: number;
  if (signal.valueType === 'float32') {
    scratch.setFloat32(0, raw);
    lo = scratch.getUint32(0);
    hi = 0;
  } else if (signal.valueType === 'float64') {
    scratch.setFloat64(0, raw);
    hi = scratch.getUint32(0);
    lo = scratch.getUint32(4);
  } else if (raw >= (signal.signed ? 2 ** (signal.length - 1) : 2 ** signal.length)) {
    // A > 53-bit maximum rounded up to the next power of two: write the largest value the bits hold.
    const hiBits = signal.length - 32;
    hi = signal.signed ? 2 ** (hiBits - 1) - 1 : 2 ** hiBits - 1;
    lo = 0xffffffff;
  } else {
    hi = Math.floor(raw / TWO_32);
    lo = raw - hi * TWO_32;
  }
  if (signal.length <= 32) {
    writeBits(payload, segments, lo);
    return;
  }
  const { low, high } = splitSegments(segments, 32);
  writeBits(payload, low, lo);
  writeBits(payload, high, hi | 0);
}

/** Whether `signal` is present given the values chosen for its multiplexer(s). */
function selected(message: DbcMessage, signal: DbcSignal, raws: Map<string, number>): boolean {
  for (let s: DbcSignal | undefined = signal; s?.multiplexerSignal; ) {
    const muxRaw = raws.get(s.multiplexerSignal);
    if (muxRaw === undefined || !(s.multiplexerRanges ?? []).some(([lo, hi]) => muxRaw >= lo && muxRaw <= hi)) return false;
    s = message.signals.find((x) => x.name === s!.multiplexerSignal);
  }
  return true;
}

/**
 * Payload of `message` (its DBC length) carrying `values` (physical numbers or VAL_ labels, by signal
 * name). Every signal present under the chosen multiplexer values must be given; unused bits are 0.
 */
export function encodeMessage(message: DbcMessage, values: Record<string, number | string>): Uint8Array {
  const known = new Set(message.signals.map((s) => s.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name)) throw new EncodeError(`${message.name}: no signal named ${name}`);
  }
  const raws = new Map<string, number>();
  for (const signal of message.signals) {
    const value = values[signal.name];
    if (value !== undefined) raws.set(signal.name, rawValueOf(message, signal, value));
  }
  const payload = new Uint8Array(message.length);
  const missing: string[] = [];
  for (const signal of message.signals) {
    if (!selected(message, signal, raws)) continue;
    const raw = raws.get(signal.name);
    if (lastByte(signalSegments(signal.startBit, signal.length, signal.byteOrder) as BitSegment[]) >= message.length) {
      // The DBC places it past the message length (a loader warning): a payload of that length cannot carry it.
      if (raw !== undefined) throw new EncodeError(`${message.name}.${signal.name}: lies beyond the ${message.length}-byte message`);
      continue;
    }
    if (raw === undefined) {
      missing.push(signal.name);
      continue;
    }
    writeRaw(payload, signal, raw);
  }
  if (missing.length > 0) throw new EncodeError(`${message.name}: missing value for ${missing.join(', ')}`);
  return payload;
}
