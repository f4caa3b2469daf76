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
import { HISTORY_SLOTS } from '../../agent/decode/payload-history.js';
import { AsciiBuffer, asciiBytes, putAscii, putBytes, putInt, putUint, putUintPadded } from './ascii-buffer.js';

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

/** The hex ID as the log wrote it (same digit count), upper case as in the reference decodes. */
export function formatId(id: number, digits: number): string {
  return id.toString(16).toUpperCase().padStart(digits, '0');
}

/** Largest text of one number: a float repr (`-2.2250738585072014e-308`), a quoted `"-inf"`, a 64-bit integer. */
const MAX_NUMBER_CHARS = 32;
/** Room for `{"t":"<time>","bus":` and `,"short":64}\n` around a record's message part. */
const MAX_FRAME_OVERHEAD = 96;

/**
 * Writes a float as Python's repr. Between 1e-4 and 1e16 JavaScript's shortest round-trip text is
 * already Python's, except that an integral value gets `.0`; elsewhere pythonFloatRepr.
 */
export function putFloat(buf: Uint8Array, pos: number, x: number): number {
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 1e16) {
    pos = putAscii(buf, pos, String(x));
    if (Number.isInteger(x)) {
      buf[pos++] = 46; // '.'
      buf[pos++] = 48; // '0'
    }
    return pos;
  }
  if (x === 0) return putAscii(buf, pos, 1 / x < 0 ? '-0.0' : '0.0');
  return putAscii(buf, pos, pythonNumber(x, false));
}

/** Distinct float values whose text is kept (about 100 KiB at most). */
const MAX_FLOAT_TEXTS = 4096;

/**
 * The text of float values already written. A log's float signals take few distinct values (1,835
 * among the Kona log's 33k), and a lookup is several times cheaper than formatting a double.
 */
class FloatTexts {
  private readonly texts = new Map<number, Uint8Array>();

  /** putFloat of x. */
  put(buf: Uint8Array, pos: number, x: number): number {
    // Zero is not kept: a Map does not tell 0 from -0, and both are quick to write.
    if (x === 0) return putFloat(buf, pos, x);
    const text = this.texts.get(x);
    if (text !== undefined) return putBytes(buf, pos, text);
    const end = putFloat(buf, pos, x);
    if (this.texts.size < MAX_FLOAT_TEXTS) this.texts.set(x, buf.slice(pos, end)); // a copy: buf is reused
    return end;
  }
}

/**
 * The samples of one of a message's records and where each one's text starts in it: the message's
 * next record copies the text of unchanged samples from there (putSignals).
 */
class PreviousSamples {
  count = 0;
  readonly signal: Int32Array;
  readonly value: Float64Array;
  /** Offset of sample j's text (`,"KEY":value`, no comma for j = 0) from the body start; [count] = its end. */
  readonly offset: Int32Array;
  /** Sample j has a VAL_ label. */
  readonly labelled: Uint8Array;

  constructor(maxSamples: number) {
    this.signal = new Int32Array(maxSamples);
    this.value = new Float64Array(maxSamples);
    this.offset = new Int32Array(maxSamples + 1);
    this.labelled = new Uint8Array(maxSamples);
  }
}

/** Per message: the record text from the ID on, the most bytes one of its records can take, its recent records. */
interface MessageText {
  /** `,"id":"356","ext":false,"msg":"NAME","sig":{` for the ID written with `idDigits` digits. */
  head: Uint8Array;
  idDigits: number;
  /** What follows the ID's digits: `","ext":false,…"sig":{` (for an ID written with other digits). */
  tail: Uint8Array;
  maxBytes: number;
  /**
   * Per slot of the decoder's payload history: the body (the text after the head, from the signals
   * to the newline) of the last record whose payload is in that slot, at `bodyAt[slot]` in the
   * output buffer while it is there (-1 once handed on), else in `keptBody[slot]`.
   */
  bodyAt: Int32Array;
  bodyLength: Int32Array;
  keptBody: (Uint8Array | undefined)[];
  /** Per slot: the samples of that record (made when the slot is first used: most messages use few). */
  samples: (PreviousSamples | undefined)[];
  /** The slot of the message's last record (-1: none yet): the one a new record is compared with. */
  last: number;
  /** Where the next decoded record's samples are written (then it takes the place of its slot's). */
  spare: PreviousSamples;
}

/** How a signal's value is written. */
const enum ValueKind {
  /** Python int: safe integer digits (an unsafe one as its exact double). */
  Int,
  Float,
  /** Wider than 53 bits: the exact integer in SampleBatch.wide. */
  WideSigned,
  WideUnsigned,
}

/**
 * Turns decoded batches into JSON Lines, written as bytes into an AsciiBuffer. Everything that
 * repeats (signal keys, message heads, bus names) is encoded once; per record the writer copies
 * those bytes and writes the numbers in place, with no string per record. What a message's recent
 * records wrote is reused: all of a record with the same payload for a frame the decoder marked
 * REPEAT, else the runs of samples unchanged since the message's last record. The decoder must be
 * made with `repeats: 'mark'` or without; every batch it decodes must reach write().
 */
export class DecodeJsonlWriter {
  private readonly keys: Uint8Array[];
  private readonly kinds: Uint8Array;
  private readonly hasLabels: Uint8Array;
  private readonly messageText: (MessageText | undefined)[];
  private readonly labelJson = new Map<string, Uint8Array>();
  private readonly floatTexts = new FloatTexts();
  private readonly recordStarts = new RecordStarts();
  /** `","bus":"can0"` per bus index of the FrameBatch last seen. */
  private busText: Uint8Array[] = [];
  private busNamesSeen: string[] | undefined;
  private busCountSeen = -1;
  /** Where the text written by the last putSignals ends. */
  private signalsEnd = 0;
  /** Scratch: sample index of each label of the record being written. */
  private labelSamples: Uint32Array<ArrayBuffer> = new Uint32Array(64);

  /** `out` receives the records; it hands them on to its sink as it fills (flush() at the end). */
  constructor(
    private readonly decoder: Decoder,
    readonly out: AsciiBuffer,
  ) {
    const signals = decoder.signals;
    this.keys = new Array<Uint8Array>(signals.length); // filled by textOf, message by message
    // Plain loops: Uint8Array.from with a mapping function is several times slower, and this runs
    // interpreted over every signal of the DBC files at each start.
    this.kinds = new Uint8Array(signals.length);
    this.hasLabels = new Uint8Array(signals.length);
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i];
      this.kinds[i] = s.wide ? (s.signal.signed ? ValueKind.WideSigned : ValueKind.WideUnsigned) : s.integerValued ? ValueKind.Int : ValueKind.Float;
      this.hasLabels[i] = s.labels && s.labels.size > 0 ? 1 : 0;
    }
    this.messageText = new Array<MessageText | undefined>(decoder.messages.length);
  }

  /** The text parts of message m and its signals' keys (built when a record of it is first written). */
  private textOf(m: number): MessageText {
    const info = this.decoder.messages[m];
    const signals = this.decoder.signals;
    const idDigits = info.extended ? 8 : 3;
    const tail = `","ext":${info.extended},"msg":${pythonJsonString(info.name)},"sig":{`;
    let maxBytes = MAX_FRAME_OVERHEAD + 8 + tail.length + 2;
    for (let s = info.firstSignal; s < info.firstSignal + info.signalCount; s++) {
      this.keys[s] = asciiBytes(`${pythonJsonString(signals[s].name)}:`);
      maxBytes += 2 * (this.keys[s].length + 1) + MAX_NUMBER_CHARS;
      let longest = 0;
      for (const label of signals[s].labels?.values() ?? []) longest = Math.max(longest, pythonJsonString(label).length);
      maxBytes += longest;
    }
    const text: MessageText = {
      head: asciiBytes(`,"id":"${formatId(info.id, idDigits)}${tail}`),
      idDigits,
      tail: asciiBytes(tail),
      maxBytes,
      bodyAt: new Int32Array(HISTORY_SLOTS).fill(-1),
      bodyLength: new Int32Array(HISTORY_SLOTS),
      keptBody: new Array<Uint8Array | undefined>(HISTORY_SLOTS).fill(undefined),
      samples: new Array<PreviousSamples | undefined>(HISTORY_SLOTS).fill(undefined),
      last: -1,
      spare: new PreviousSamples(info.signalCount),
    };
    this.messageText[m] = text;
    return text;
  }

  /**
   * Appends the records of `frames` (just decoded into `samples`, which holds only this batch's
   * samples from index 0) to `out`; `idDigits[i]` = hex digits of frame i's ID in the log.
   */
  write(frames: FrameBatch, samples: SampleBatch, idDigits: Uint8Array): void {
    const { decoder, out, messageText } = this;
    if (frames.busNames !== this.busNamesSeen || frames.busNames.length !== this.busCountSeen) this.mapBuses(frames.busNames);
    const busText = this.busText;
    const { frameMessage, frameStatus, frameSlot } = decoder;
    const sampleFrame = samples.frame;
    const sampleCount = samples.count;
    let k = 0;
    for (let i = 0; i < frames.count; i++) {
      const m = frameMessage[i];
      if (m < 0) continue;
      const text = messageText[m] ?? this.textOf(m);
      const bus = busText[frames.bus[i]];
      const room = text.maxBytes + bus.length;
      if (out.pos + room > out.buf.length) this.keepBodies();
      out.reserve(room);
      const buf = out.buf;
      let pos = this.recordStarts.put(buf, out.pos, frames.timeUs[i]);
      pos = putBytes(buf, pos, bus);
      if (idDigits[i] === text.idDigits) {
        pos = putBytes(buf, pos, text.head);
      } else {
        pos = putAscii(buf, pos, `,"id":"${formatId(frames.id[i], idDigits[i])}`);
        pos = putBytes(buf, pos, text.tail);
      }
      const bodyStart = pos;
      const slot = frameSlot[i];
      if (frameStatus[i] & STATUS_REPEAT) {
        // The payload of the last record written for this history slot: its body again (the decoder produced no samples).
        const at = text.bodyAt[slot];
        const length = text.bodyLength[slot];
        if (at >= 0) buf.copyWithin(pos, at, at + length);
        else buf.set(text.keptBody[slot]!.subarray(0, length), pos);
        pos += length;
      } else {
        while (k < sampleCount && sampleFrame[k] < i) k++;
        const first = k;
        while (k < sampleCount && sampleFrame[k] === i) k++;
        const labels = this.putSignals(buf, pos, text, slot, samples, first, k);
        pos = this.signalsEnd;
        buf[pos++] = 125; // '}'
        if (labels > 0) pos = this.putLabels(buf, pos, labels, samples);
        if (frameStatus[i] & STATUS_SHORT) {
          pos = putBytes(buf, pos, SHORT_KEY);
          pos = putUint(buf, pos, frames.len[i]);
        }
        buf[pos++] = 125; // '}'
        buf[pos++] = 10; // '\n'
        text.bodyLength[slot] = pos - bodyStart;
      }
      text.bodyAt[slot] = bodyStart;
      text.last = slot;
      out.pos = pos;
    }
  }

  /**
   * Writes `"KEY":value,…` of samples [first, end) at `bodyStart` (ending at signalsEnd) for a record
   * whose payload goes in history slot `slot`; returns how many have a label (listed in
   * labelSamples). Runs of samples equal to the message's last record's at the same place are copied
   * from its text in one move: most signals of a frame keep their value (71 % of the text in the Kona
   * log), and a native copy is far cheaper than writing key and value again.
   */
  private putSignals(buf: Uint8Array, bodyStart: number, text: MessageText, slot: number, samples: SampleBatch, first: number, end: number): number {
    const { keys, kinds, hasLabels, decoder } = this;
    const { signal: sampleSignal, value: sampleValue, wide } = samples;
    const last = text.last;
    const next = text.spare;
    const previous = last >= 0 ? text.samples[last]! : next; // without a last record, copyFrom is -1: never read
    // The last record's body, or -1 when there is none or it was handed on (nothing to copy).
    const copyFrom = last >= 0 ? text.bodyAt[last] : -1;
    const count = end - first;
    let pos = bodyStart;
    let labels = 0;
    let run = -1; // first position of the pending run of unchanged samples
    for (let j = 0; j <= count; j++) {
      const k = first + j;
      const s = j < count ? sampleSignal[k] : -1;
      const value = j < count ? sampleValue[k] : 0;
      const unchanged =
        j < count &&
        copyFrom >= 0 &&
        j < previous.count &&
        previous.signal[j] === s &&
        previous.value[j] === value &&
        (value !== 0 || Object.is(value, previous.value[j])) &&
        kinds[s] <= ValueKind.Float; // a wide value's double does not tell its exact integer
      if (unchanged) {
        if (run < 0) run = j;
        next.labelled[j] = previous.labelled[j];
      } else {
        if (run >= 0) {
          // Copy the run [run, j) and place its samples' offsets in the new text.
          const from = copyFrom + previous.offset[run];
          const length = previous.offset[j] - previous.offset[run];
          buf.copyWithin(pos, from, from + length);
          const shift = pos - bodyStart - previous.offset[run];
          for (let r = run; r < j; r++) next.offset[r] = previous.offset[r] + shift;
          pos += length;
          run = -1;
        }
        if (j === count) break;
        next.offset[j] = pos - bodyStart;
        if (j > 0) buf[pos++] = 44; // ','
        pos = putBytes(buf, pos, keys[s]);
        switch (kinds[s]) {
          case ValueKind.Int:
            pos = Number.isSafeInteger(value) ? putInt(buf, pos, value) : putAscii(buf, pos, pythonNumber(value, true));
            break;
          case ValueKind.Float:
            pos = this.floatTexts.put(buf, pos, value);
            break;
          case ValueKind.WideSigned:
            pos = putAscii(buf, pos, wide[k].toString());
            break;
          default:
            pos = putAscii(buf, pos, BigInt.asUintN(64, wide[k]).toString());
        }
        next.labelled[j] = hasLabels[s] === 1 && decoder.labelOf(s, value) !== undefined ? 1 : 0;
      }
      next.signal[j] = s;
      next.value[j] = value;
      if (next.labelled[j] === 1) {
        if (labels === this.labelSamples.length) this.labelSamples = growCopy(this.labelSamples);
        this.labelSamples[labels++] = k;
      }
    }
    next.offset[count] = pos - bodyStart;
    next.count = count;
    text.spare = text.samples[slot] ?? new PreviousSamples(next.signal.length);
    text.samples[slot] = next;
    this.signalsEnd = pos;
    return labels;
  }

  /** Hands every record written so far to the output's sink. */
  flush(): void {
    this.keepBodies();
    this.out.flush();
  }

  /** Copies the bodies a repeated frame may reuse out of the output buffer, which is about to be handed on. */
  private keepBodies(): void {
    const buf = this.out.buf;
    for (const text of this.messageText) {
      if (text === undefined) continue;
      for (let slot = 0; slot < HISTORY_SLOTS; slot++) {
        const at = text.bodyAt[slot];
        if (at < 0) continue;
        const kept = (text.keptBody[slot] ??= new Uint8Array(text.maxBytes));
        kept.set(buf.subarray(at, at + text.bodyLength[slot]));
        text.bodyAt[slot] = -1;
      }
    }
  }

  /** `,"lbl":{"Signal":"LABEL",…}` for the first `count` samples listed in labelSamples. */
  private putLabels(buf: Uint8Array, pos: number, count: number, samples: SampleBatch): number {
    pos = putBytes(buf, pos, LABELS_START);
    for (let j = 0; j < count; j++) {
      const k = this.labelSamples[j];
      const s = samples.signal[k];
      if (j > 0) buf[pos++] = 44;
      pos = putBytes(buf, pos, this.keys[s]);
      const label = this.decoder.labelOf(s, samples.value[k])!;
      let json = this.labelJson.get(label);
      if (json === undefined) {
        json = asciiBytes(pythonJsonString(label));
        this.labelJson.set(label, json);
      }
      pos = putBytes(buf, pos, json);
    }
    buf[pos++] = 125;
    return pos;
  }

  private mapBuses(busNames: string[]): void {
    this.busText = busNames.map((name) => asciiBytes(`","bus":${pythonJsonString(name)}`));
    this.busNamesSeen = busNames;
    this.busCountSeen = busNames.length;
  }
}

const SHORT_KEY = asciiBytes(',"short":');
const LABELS_START = asciiBytes(',"lbl":{');

const STATUS_REPEAT = FrameStatus.REPEAT;
const STATUS_SHORT = FrameStatus.SHORT;

function growCopy(a: Uint32Array): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(a.length * 2);
  grown.set(a);
  return grown;
}

/**
 * Record starts: `{"t":"` and the time, seconds with 6 decimals from integer microseconds (as candump
 * writes them). A log's consecutive frames nearly always share their second (all but 132 of the
 * bench log's 206k records): the start up to the decimals is built once per second and copied.
 */
class RecordStarts {
  /** The second of `text`, negative (-seconds - 1) for a time before the epoch. */
  private second = NaN;
  /** `{"t":"<seconds>.` of the last record written. */
  private text: Uint8Array = new Uint8Array(0);

  put(buf: Uint8Array, pos: number, timeUs: number): number {
    const magnitude = Math.abs(timeUs);
    const seconds = Math.floor(magnitude / 1e6);
    const second = timeUs < 0 ? -seconds - 1 : seconds;
    if (second !== this.second) {
      this.second = second;
      this.text = asciiBytes(`{"t":"${timeUs < 0 ? '-' : ''}${seconds}.`);
    }
    pos = putBytes(buf, pos, this.text);
    return putUintPadded(buf, pos, magnitude - seconds * 1e6, 6);
  }
}
