/**
 * JSON Lines records of `roadlink decode`, byte-compatible with the corpus reference decodes
 * (cantools + Python json.dumps): Python float repr (`0.0`, `1e-05`, `1.5e+16`), ints for integer
 * signals, non-ASCII escaped as \uXXXX, keys in cantools' decode order.
 * One record per frame whose message is known:
 *   {"t":"<s>.<us>","bus":"can0","id":"356","ext":false,"msg":"NAME","sig":{...},"lbl":{...},"short":7}
 */
import type { FrameBatch } from '../../drivers/can/frame-batch.js';
import type { SampleBatch } from '../../agent/decode/sample-batch.js';
import { FrameStatus, type Decoder } from '../../agent/decode/decoder.js';

/** JSON string as Python's json.dumps writes it (ensure_ascii: everything outside ' '..'~' escaped). */
export function pythonJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Python repr() of a float: shortest round-trip digits, fixed notation for exponents -4..15, else d.ddde±XX. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = x < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** A value as cantools yields it: Python int for integer signals, float otherwise; non-finite floats as strings. */
export function pythonNumber(x: number, integerValued: boolean): string {
  if (integerValued && Number.isInteger(x)) return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
  const repr = pythonFloatRepr(x);
  return Number.isFinite(x) ? repr : `"${repr}"`;
}

/** Seconds with 6 decimals from integer microseconds (as candump writes them). */
export function formatTimeUs(timeUs: number): string {
  const negative = timeUs < 0;
  const abs = Math.abs(timeUs);
  const seconds = Math.floor(abs / 1e6);
  const micros = abs - seconds * 1e6;
  return `${negative ? '-' : ''}${seconds}.${String(micros).padStart(6, '0')}`;
}

/** The hex ID as the log wrote it (same digit count), upper case as in the reference decodes. */
export function formatId(id: number, digits: number): string {
  return id.toString(16).toUpperCase().padStart(digits, '0');
}

/**
 * Turns decoded batches into JSON Lines. Strings that repeat (signal keys, message headers, bus names)
 * are built once; per frame the writer only joins them with the numbers.
 */
export class DecodeJsonlWriter {
  private readonly signalKeys: string[];
  private readonly messageHeads: string[];
  private readonly busJson = new Map<string, string>();

  constructor(private readonly decoder: Decoder) {
    this.signalKeys = decoder.signals.map((s) => `${pythonJsonString(s.name)}:`);
    this.messageHeads = decoder.messages.map((m) => `,"ext":${m.extended},"msg":${pythonJsonString(m.name)},"sig":{`);
  }

  /**
   * Lines for the frames of `frames` (just decoded into `samples`, which holds only this batch's
   * samples from index 0); `idDigits[i]` = hex digits of frame i's ID in the log.
   */
  format(frames: FrameBatch, samples: SampleBatch, idDigits: Uint8Array): string {
    const { decoder } = this;
    const signals = decoder.signals;
    let out = '';
    let k = 0;
    for (let i = 0; i < frames.count; i++) {
      const m = decoder.frameMessage[i];
      if (m < 0) continue;
      const busName = frames.busNames[frames.bus[i]];
      let bus = this.busJson.get(busName);
      if (bus === undefined) {
        bus = pythonJsonString(busName);
        this.busJson.set(busName, bus);
      }
      let line = `{"t":"${formatTimeUs(frames.timeUs[i])}","bus":${bus},"id":"${formatId(frames.id[i], idDigits[i])}"${this.messageHeads[m]}`;
      let labels = '';
      let first = true;
      while (k < samples.count && samples.frame[k] < i) k++;
      for (; k < samples.count && samples.frame[k] === i; k++) {
        const s = samples.signal[k];
        const value = samples.value[k];
        line += `${first ? '' : ','}${this.signalKeys[s]}${pythonNumber(value, signals[s].integerValued)}`;
        first = false;
        const label = decoder.labelOf(s, value);
        if (label !== undefined) labels += `${labels ? ',' : ''}${this.signalKeys[s]}${pythonJsonString(label)}`;
      }
      line += '}';
      if (labels) line += `,"lbl":{${labels}}`;
      if (decoder.frameStatus[i] & FrameStatus.SHORT) line += `,"short":${frames.len[i]}`;
      out += `${line}}\n`;
    }
    return out;
  }
}
