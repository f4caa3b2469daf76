/**
 * Streaming parser for candump text (can-utils), straight from bytes into FrameBatches.
 *
 * Two line forms are recognised, line by line:
 * - log form (`candump -L`, also what `canplayer` reads):
 *     `(1436509052.249713) can0 123#DEADBEEF`    3 hex digits: 11-bit ID, 8 digits: 29-bit ID
 *     `(…) can0 123#R` / `123#R4`                 remote request, optionally with its DLC
 *     `(…) can0 123##1DEADBEEF`                   CAN FD, flags nibble (BRS=1, ESI=2)
 *     `(…) can0 20000080#0000000000000000`        error frame (CAN_ERR_FLAG in an 8-digit ID)
 *   optional `.` between payload bytes, optional `_<dlc>` after 8 bytes (len8_dlc), optional ` T` / ` R`
 *   (tx/rx) suffix; the interface may be missing (`123#DEAD`, cansend syntax): then `defaultBus`.
 * - ascii form (candump without -L, optionally with -t a/d/z timestamps and -x extra info):
 *     `  can0  123   [8]  DE AD BE EF 01 02 03 04`
 *     `  vcan0  12345678   [2]  01 02`, `  can0  123   [4]  remote request`,
 *     `  can0  123  [32]  …` (a two-digit length is CAN FD), `  can0  TX B -  123  [64]  …`,
 *     trailing `'ascii'` (-a) and `ERRORFRAME` text are accepted; the tab-indented error description
 *     line that `candump -e` prints after an error frame is skipped.
 *
 * A CAN FD payload keeps the length the line gives, also one that no FD DLC encodes (10 bytes: a
 * bus would carry it padded to 12): can-utils' parse_canframe (lib.c) and cantools' log reader do
 * the same; only cansend rounds such a frame up before sending it.
 *
 * Times: `(seconds.fraction)` becomes integer microseconds computed from the digits (no float
 * rounding: 1436509052.249713 → 1436509052249713); more than 6 fraction digits are truncated to µs.
 * Relative times such as `(166.000000)` are kept as they are (166000000 µs). A line without a
 * timestamp gets the receive time: `receiveTimeUs()` read once per push() (default: the wall clock in
 * µs), so all untimed lines of one chunk share one time.
 *
 * Bad lines never throw: they are counted in `stats` with their 1-based line number and a reason
 * (the first `maxBadLineSamples` are kept). Empty lines and lines starting with `#` are skipped.
 *
 * Hot path: bytes are read by char code; no regex, split or per-line string. A bus name becomes a
 * string only the first time it is seen (later lines are matched by comparing bytes).
 */
import { FRAME_STRIDE, FrameFlag, busIndex, type FrameBatch } from '../can/frame-batch.js';
import { wallClockUs } from '../can/wall-clock.js';

export interface CandumpParserOptions {
  /** Bus for lines that name no interface (`123#DEAD`). Default `can0`. */
  defaultBus?: string;
  /** Log interface name → bus name in the batch, e.g. `{ can0: 'body' }`; `'*'` renames every other interface. */
  busRename?: Readonly<Record<string, string>>;
  /** Time for lines without a timestamp, µs since the epoch; read once per push(). */
  receiveTimeUs?: () => number;
  /**
   * Deliver the batch before adding a frame whose time is more than this after the batch's first
   * frame (so a batch spans at most this much log time). Default: no limit (batches are full).
   */
  maxSpanUs?: number;
  /** How many bad lines to keep as samples. Default 20. */
  maxBadLineSamples?: number;
}

export interface BadLineSample {
  /** 1-based line number in the input. */
  line: number;
  reason: string;
  /** The line (at most 200 characters). */
  text: string;
}

export interface CandumpParserStats {
  /** Lines read, including empty lines and comments. */
  lines: number;
  frames: number;
  badLines: number;
  badLineSamples: BadLineSample[];
}

/** Longest partial line carried from one chunk to the next; longer lines are reported as bad. */
const MAX_CARRIED_LINE = 4096;

const NL = 10, CR = 13, SP = 32, TAB = 9, HASH = 35, LPAREN = 40, RPAREN = 41, DOT = 46;
const LBRACKET = 91, RBRACKET = 93, UNDERSCORE = 95, QUOTE = 39, BACKQUOTE = 96;
const CH_0 = 48, CH_9 = 57, CH_R = 82, CH_r = 114, CH_T = 84, CH_X = 88, CH_B = 66, CH_E = 69, DASH = 45;

/** Hex digit value by char code, -1 for anything else. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[CH_0 + c] = c;
for (let c = 0; c < 6; c++) HEX[65 + c] = HEX[97 + c] = 10 + c;

const CAN_ERR_FLAG = 0x20000000;
const CAN_EFF_MASK = 0x1fffffff;
/** Seconds whose microseconds are still exact integers in a double (2^53 µs). */
const MAX_SECONDS = 9007199254;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];
const REMOTE_REQUEST = Buffer.from('remote request');
const ERRORFRAME = Buffer.from('ERRORFRAME');

function isBlank(c: number): boolean {
  return c === SP || c === TAB;
}

export class CandumpParser {
  readonly stats: CandumpParserStats = { lines: 0, frames: 0, badLines: 0, badLineSamples: [] };
  /**
   * Hex digits of frame i's ID as written in the log (3 for `0F1`, 2 for an old-style ` F1`, 8 for
   * `00770000`), for frames 0..batch.count-1 of the batch being delivered. Owned by the parser,
   * sized to the batch capacity, overwritten like the batch itself.
   */
  readonly idDigits: Uint8Array;

  private readonly defaultBus: string;
  private readonly busRename: ReadonlyMap<string, string>;
  private readonly receiveTimeUs: () => number;
  private readonly maxSpanUs: number;
  private readonly maxSamples: number;

  /** Known interface names as bytes, and their index in the batch's bus table. */
  private readonly busBytes: Uint8Array[] = [];
  private readonly busSlot: number[] = [];
  private lastBus = -1;
  private defaultBusSlot = -1;

  private carry = Buffer.alloc(256);
  private carryLen = 0;
  private carryOverflow = false;
  private input: Uint8Array | null = null;
  private inputPos = 0;
  private pushTimeUs = -1;
  private lineNo = 0;
  private lastWasErrorFrame = false;
  /** Result of scanDecimal(). */
  private decimal = 0;

  private inOnBatch = false;
  private paused = false;
  private ending = false;
  /** Slot of a parsed frame that goes to slot 0 once the delivered batch is released, or -1. */
  private pendingSlot = -1;

  constructor(
    private readonly batch: FrameBatch,
    private readonly onBatch: (batch: FrameBatch) => void,
    options: CandumpParserOptions = {},
  ) {
    this.idDigits = new Uint8Array(batch.capacity);
    this.defaultBus = options.defaultBus ?? 'can0';
    this.busRename = new Map(Object.entries(options.busRename ?? {}));
    this.receiveTimeUs = options.receiveTimeUs ?? wallClockUs;
    this.maxSpanUs = options.maxSpanUs ?? Infinity;
    this.maxSamples = options.maxBadLineSamples ?? 20;
  }

  /** Parses a chunk; a line split across chunks is completed by the next push() or end(). */
  push(chunk: Uint8Array): void {
    if (this.paused) throw new Error('CandumpParser.push() while paused: call resume() first');
    this.input = chunk;
    this.inputPos = 0;
    this.pushTimeUs = -1;
    this.drain();
  }

  /** Parses the last line (if it has no newline) and delivers the last partial batch. */
  end(): void {
    if (this.paused) throw new Error('CandumpParser.end() while paused: call resume() first');
    this.ending = true;
    this.drain();
  }

  /** Delivers the frames parsed so far, e.g. when a live stream goes quiet (a partial line stays). */
  flush(): void {
    if (this.paused) throw new Error('CandumpParser.flush() while paused: call resume() first');
    if (this.batch.count > 0) this.deliver(-1);
  }

  /**
   * Called from inside onBatch: keep the delivered batch untouched and stop parsing until resume().
   * The replay driver uses this to hold a batch until its time has come without copying it.
   */
  pause(): void {
    if (!this.inOnBatch) throw new Error('CandumpParser.pause() is only valid inside onBatch');
    this.paused = true;
  }

  /** Releases the held batch and continues with the rest of the input (may pause again). */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.releaseBatch();
    this.drain();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  private drain(): void {
    if (this.input !== null) {
      this.parseInput();
      if (this.paused) return;
    }
    if (!this.ending) return;
    if (this.carryLen > 0 || this.carryOverflow) {
      this.parseCarriedLine();
      if (this.paused) return;
    }
    if (this.batch.count > 0) {
      this.deliver(-1);
      if (this.paused) return;
    }
    this.ending = false;
  }

  private parseInput(): void {
    const b = this.input!;
    let pos = this.inputPos;
    if (this.carryLen > 0 || this.carryOverflow) {
      const nl = b.indexOf(NL, pos);
      if (nl < 0) {
        this.appendCarry(b, pos, b.length);
        this.input = null;
        return;
      }
      this.appendCarry(b, pos, nl);
      this.inputPos = nl + 1;
      this.parseCarriedLine();
      if (this.paused) return;
      pos = nl + 1;
    }
    for (;;) {
      const nl = b.indexOf(NL, pos);
      if (nl < 0) {
        this.appendCarry(b, pos, b.length);
        this.input = null;
        return;
      }
      this.parseLine(b, pos, nl);
      pos = nl + 1;
      if (this.paused) {
        this.inputPos = pos;
        return;
      }
    }
  }

  private appendCarry(b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0 || this.carryOverflow) return;
    if (this.carryLen + n > MAX_CARRIED_LINE) {
      this.carryOverflow = true;
      return;
    }
    if (this.carryLen + n > this.carry.length) this.growCarry(this.carryLen + n, this.carryLen);
    this.carry.set(b.subarray(start, end), this.carryLen);
    this.carryLen += n;
  }

  private parseCarriedLine(): void {
    const len = this.carryLen;
    const overflow = this.carryOverflow;
    this.carryLen = 0;
    this.carryOverflow = false;
    if (overflow) {
      this.lineNo++;
      this.stats.lines++;
      this.bad(`line longer than ${MAX_CARRIED_LINE} bytes`, this.carry, 0, len);
      return;
    }
    // A terminator after the line: the parser may look one byte past a line's end.
    if (len === this.carry.length) this.growCarry(len + 1, len);
    this.carry[len] = NL;
    this.parseLine(this.carry, 0, len);
  }

  private growCarry(size: number, keep: number): void {
    const grown = Buffer.alloc(Math.max(this.carry.length * 2, size));
    this.carry.copy(grown, 0, 0, keep);
    this.carry = grown;
  }

  /** Parses one line [s, e) (without its newline) into slot batch.count; commits or reports it. */
  private parseLine(b: Uint8Array, s: number, e: number): void {
    this.lineNo++;
    this.stats.lines++;
    while (e > s && (b[e - 1] === CR || isBlank(b[e - 1]))) e--;
    let p = s;
    while (p < e && isBlank(b[p])) p++;
    if (p === e || b[p] === HASH) return;
    if (b[s] === TAB && this.lastWasErrorFrame) return; // candump -e error description
    this.lastWasErrorFrame = false;

    const batch = this.batch;
    const slot = batch.count;

    // Optional "(seconds.fraction)"
    let timeUs: number;
    if (b[p] === LPAREN) {
      const secEnd = this.scanDecimal(b, p + 1, e);
      const sec = this.decimal;
      if (secEnd === p + 1 || sec > MAX_SECONDS || b[secEnd] !== DOT) return this.bad('bad timestamp', b, s, e);
      p = this.scanDecimal(b, secEnd + 1, e);
      const frac = this.decimal;
      const fracDigits = p - secEnd - 1;
      if (fracDigits === 0 || fracDigits > 9 || b[p] !== RPAREN) return this.bad('bad timestamp', b, s, e);
      p++;
      if (p < e && !isBlank(b[p])) return this.bad('bad timestamp', b, s, e);
      timeUs = sec * 1000000 + (fracDigits <= 6 ? frac * POW10[6 - fracDigits] : Math.floor(frac / POW10[fracDigits - 6]));
      while (p < e && isBlank(b[p])) p++;
    } else {
      if (this.pushTimeUs < 0) this.pushTimeUs = this.receiveTimeUs();
      timeUs = this.pushTimeUs;
    }

    // Interface name, unless the first token is already a frame ("123#…").
    const tokenStart = p;
    while (p < e && !isBlank(b[p]) && b[p] !== HASH) p++;
    let bus: number;
    let idStart: number;
    if (p === e) return this.bad('no CAN frame on the line', b, s, e);
    if (b[p] === HASH) {
      bus = this.defaultBusIndex();
      idStart = p = tokenStart;
    } else {
      bus = this.busIndexOf(b, tokenStart, p);
      while (p < e && isBlank(b[p])) p++;
      idStart = p;
    }

    // candump -x extra info: "RX|TX B|- E|-" before the ID (ascii form).
    let extraFlags = 0;
    if (e - p > 3 && (b[p] === CH_R || b[p] === CH_T) && b[p + 1] === CH_X && isBlank(b[p + 2])) {
      p += 3;
      while (p < e && isBlank(b[p])) p++;
      if (b[p] === CH_B) extraFlags |= FrameFlag.BRS;
      else if (b[p] !== DASH) return this.bad('bad extra info after interface (expected B or -)', b, s, e);
      p++;
      while (p < e && isBlank(b[p])) p++;
      if (b[p] === CH_E) extraFlags |= FrameFlag.ESI;
      else if (b[p] !== DASH) return this.bad('bad extra info after interface (expected E or -)', b, s, e);
      p++;
      while (p < e && isBlank(b[p])) p++;
      idStart = p;
    }

    // Identifier
    let id = 0;
    while (p < e && HEX[b[p]] >= 0) id = id * 16 + HEX[b[p++]];
    const digits = p - idStart;
    if (digits === 0) return this.bad('missing CAN ID', b, s, e);
    let ok: boolean;
    if (b[p] === HASH) ok = this.parseLogFrame(b, s, p + 1, e, id, digits, slot);
    else if (p < e && isBlank(b[p])) ok = this.parseAsciiFrame(b, s, p, e, id, digits, slot, extraFlags);
    else return this.bad(p === e ? "missing '#' after the CAN ID" : 'bad character in CAN ID', b, s, e);
    if (!ok) return;

    batch.bus[slot] = bus;
    batch.timeUs[slot] = timeUs;
    this.idDigits[slot] = digits;
    this.lastWasErrorFrame = (batch.flags[slot] & FrameFlag.ERROR) !== 0;
    this.stats.frames++;
    this.commit(slot, timeUs);
  }

  /** `ID#data`, `ID#R[dlc]`, `ID##<flags>data`; p is just after the first '#'. */
  private parseLogFrame(b: Uint8Array, s: number, p: number, e: number, id: number, digits: number, slot: number): boolean {
    const batch = this.batch;
    let flags = this.idFlags(b, s, e, id, digits, true);
    if (flags < 0) return false;
    if (flags & FrameFlag.ERROR) id &= CAN_EFF_MASK;
    const base = slot * FRAME_STRIDE;
    let len = 0;
    let maxLen = 8;
    if (b[p] === CH_R || b[p] === CH_r) {
      flags |= FrameFlag.RTR;
      p++;
      if (p < e && HEX[b[p]] >= 0) {
        len = HEX[b[p++]];
        if (len > 8) return this.badBool(`remote request DLC ${len} exceeds 8`, b, s, e);
        if (b[p] === UNDERSCORE && len === 8 && HEX[b[p + 1]] >= 0) p += 2;
      }
      batch.data.fill(0, base, base + len);
    } else {
      if (b[p] === HASH) {
        const fdFlags = p + 1 < e ? HEX[b[p + 1]] : -1;
        if (fdFlags < 0) return this.badBool("missing CAN FD flags nibble after '##'", b, s, e);
        flags |= FrameFlag.FD | (fdFlags & 1 ? FrameFlag.BRS : 0) | (fdFlags & 2 ? FrameFlag.ESI : 0);
        maxLen = 64;
        p += 2;
      }
      const data = batch.data;
      while (p < e) {
        const c = b[p];
        if (c === DOT) {
          p++;
          continue;
        }
        if (isBlank(c) || c === UNDERSCORE) break;
        const hi = HEX[c];
        if (hi < 0) return this.badBool('bad hex digit in payload', b, s, e);
        const lo = p + 1 < e ? HEX[b[p + 1]] : -1;
        if (lo < 0) {
          const next = p + 1 < e ? b[p + 1] : SP;
          return this.badBool(isBlank(next) || next === DOT || next === UNDERSCORE ? 'odd number of hex digits in payload' : 'bad hex digit in payload', b, s, e);
        }
        if (len < FRAME_STRIDE) data[base + len] = (hi << 4) | lo;
        len++;
        p += 2;
      }
      if (b[p] === UNDERSCORE) {
        // len8_dlc: "_<raw dlc 9..F>" after 8 bytes of a classic frame
        if (maxLen !== 8 || len !== 8 || !(p + 1 < e && HEX[b[p + 1]] >= 0)) return this.badBool("bad '_' DLC suffix", b, s, e);
        p += 2;
      }
      if (len > maxLen) {
        return this.badBool(maxLen === 8 ? `payload of ${len} bytes exceeds 8 (classic CAN)` : `payload of ${len} bytes exceeds 64 (CAN FD)`, b, s, e);
      }
    }
    // Optional " T" / " R" direction suffix.
    if (p < e && !isBlank(b[p])) return this.badBool('unexpected character after payload', b, s, e);
    while (p < e && isBlank(b[p])) p++;
    if (p < e && !(p + 1 === e && (b[p] === CH_T || b[p] === CH_R))) return this.badBool('unexpected text after the frame', b, s, e);
    batch.id[slot] = id;
    batch.len[slot] = len;
    batch.flags[slot] = flags;
    return true;
  }

  /** `ID  [len]  AA BB …` / `ID  [len]  remote request`; p is on the blank after the ID. */
  private parseAsciiFrame(b: Uint8Array, s: number, p: number, e: number, id: number, digits: number, slot: number, extraFlags: number): boolean {
    const batch = this.batch;
    let flags = this.idFlags(b, s, e, id, digits, false);
    if (flags < 0) return false;
    if (flags & FrameFlag.ERROR) id &= CAN_EFF_MASK;
    while (p < e && isBlank(b[p])) p++;
    if (b[p] !== LBRACKET) return this.badBool("expected '[length]' after the CAN ID", b, s, e);
    const lenStart = p + 1;
    p = this.scanDecimal(b, lenStart, e);
    const len = this.decimal;
    const lenDigits = p - lenStart;
    if (lenDigits === 0 || lenDigits > 2 || b[p] !== RBRACKET) return this.badBool("bad '[length]'", b, s, e);
    p++;
    // candump prints "[%d]" for classic frames and "[%02d]" for CAN FD frames.
    const fd = lenDigits === 2 || extraFlags !== 0;
    if (fd) {
      flags |= FrameFlag.FD | extraFlags;
      if (len > 64) return this.badBool(`payload of ${len} bytes exceeds 64 (CAN FD)`, b, s, e);
    } else if (len > 8) {
      return this.badBool(`payload of ${len} bytes exceeds 8 (classic CAN)`, b, s, e);
    }
    while (p < e && isBlank(b[p])) p++;
    const base = slot * FRAME_STRIDE;
    if (!fd && this.matches(b, p, e, REMOTE_REQUEST)) {
      flags |= FrameFlag.RTR;
      batch.data.fill(0, base, base + len);
      p += REMOTE_REQUEST.length;
    } else {
      const data = batch.data;
      for (let k = 0; k < len; k++) {
        while (p < e && isBlank(b[p])) p++;
        const hi = p < e ? HEX[b[p]] : -1;
        const lo = p + 1 < e ? HEX[b[p + 1]] : -1;
        if (hi < 0 || lo < 0 || (p + 2 < e && !isBlank(b[p + 2]))) {
          return this.badBool(p >= e ? `payload has ${k} bytes, [${len}] says ${len}` : 'bad payload byte', b, s, e);
        }
        data[base + k] = (hi << 4) | lo;
        p += 2;
      }
    }
    while (p < e && isBlank(b[p])) p++;
    if (p < e && b[p] !== QUOTE && b[p] !== BACKQUOTE && !this.matches(b, p, e, ERRORFRAME)) {
      return this.badBool(HEX[b[p]] >= 0 && p + 1 < e && HEX[b[p + 1]] >= 0 ? `more payload bytes than [${len}] says` : 'unexpected text after payload', b, s, e);
    }
    batch.id[slot] = id;
    batch.len[slot] = len;
    batch.flags[slot] = flags;
    return true;
  }

  /**
   * Frame kind from the ID's digit count: EXTENDED, ERROR or 0 (11-bit); -1 after reporting a bad ID.
   * The log form takes 3 or 8 digits as can-utils does; the ascii form (where old candump versions
   * pad with spaces) takes 1-3 digits as 11-bit and 4-8 as 29-bit.
   */
  private idFlags(b: Uint8Array, s: number, e: number, id: number, digits: number, logForm: boolean): number {
    if (digits <= 3 && (!logForm || digits === 3)) {
      if (id > 0x7ff) return this.badNum(`11-bit CAN ID 0x${id.toString(16).toUpperCase()} exceeds 0x7FF`, b, s, e);
      return 0;
    }
    if (digits === 8 || (!logForm && digits > 3 && digits < 8)) {
      if (id >= 0x40000000) return this.badNum(`CAN ID 0x${id.toString(16).toUpperCase()} exceeds 29 bits`, b, s, e);
      return id & CAN_ERR_FLAG ? FrameFlag.ERROR : FrameFlag.EXTENDED;
    }
    return this.badNum(`CAN ID has ${digits} hex digits (3 for 11-bit, 8 for 29-bit)`, b, s, e);
  }

  /** Reads decimal digits from p into `decimal`; returns the position after them. */
  private scanDecimal(b: Uint8Array, p: number, e: number): number {
    let value = 0;
    while (p < e && b[p] >= CH_0 && b[p] <= CH_9) value = value * 10 + (b[p++] - CH_0);
    this.decimal = value;
    return p;
  }

  private matches(b: Uint8Array, p: number, e: number, word: Uint8Array): boolean {
    if (e - p < word.length) return false;
    for (let k = 0; k < word.length; k++) if (b[p + k] !== word[k]) return false;
    return true;
  }

  /** Adds the frame in `slot` to the batch, delivering first when it would stretch the batch too long. */
  private commit(slot: number, timeUs: number): void {
    const batch = this.batch;
    if (slot > 0 && timeUs - batch.timeUs[0] > this.maxSpanUs) {
      this.deliver(slot);
      if (this.paused) return;
    } else {
      batch.count = slot + 1;
    }
    if (batch.count === batch.capacity) this.deliver(-1);
  }

  private deliver(pendingSlot: number): void {
    this.pendingSlot = pendingSlot;
    this.inOnBatch = true;
    try {
      this.onBatch(this.batch);
    } finally {
      this.inOnBatch = false;
    }
    if (!this.paused) this.releaseBatch();
  }

  /** Empties the delivered batch; a frame parsed past its end moves to slot 0. */
  private releaseBatch(): void {
    const batch = this.batch;
    const from = this.pendingSlot;
    if (from < 0) {
      batch.count = 0;
      return;
    }
    this.pendingSlot = -1;
    batch.bus[0] = batch.bus[from];
    batch.id[0] = batch.id[from];
    batch.len[0] = batch.len[from];
    batch.flags[0] = batch.flags[from];
    batch.timeUs[0] = batch.timeUs[from];
    this.idDigits[0] = this.idDigits[from];
    const start = from * FRAME_STRIDE;
    batch.data.copyWithin(0, start, start + batch.len[from]);
    batch.count = 1;
    if (batch.capacity === 1) this.deliver(-1);
  }

  /** Index in the batch's bus table of the interface named by bytes [start, end). */
  private busIndexOf(b: Uint8Array, start: number, end: number): number {
    const known = this.busBytes;
    const n = end - start;
    if (this.lastBus >= 0 && this.sameBytes(known[this.lastBus], b, start, n)) return this.busSlot[this.lastBus];
    for (let k = 0; k < known.length; k++) {
      if (this.sameBytes(known[k], b, start, n)) {
        this.lastBus = k;
        return this.busSlot[k];
      }
    }
    const bytes = new Uint8Array(n);
    bytes.set(b.subarray(start, end));
    const name = Buffer.from(bytes.buffer, 0, n).toString('latin1');
    this.lastBus = known.push(bytes) - 1;
    this.busSlot.push(busIndex(this.batch, this.renamed(name)));
    return this.busSlot[this.lastBus];
  }

  private sameBytes(known: Uint8Array, b: Uint8Array, start: number, n: number): boolean {
    if (known.length !== n) return false;
    for (let k = 0; k < n; k++) if (known[k] !== b[start + k]) return false;
    return true;
  }

  /** The bus name for a log interface: its own rename, else the `'*'` rename, else itself. */
  private renamed(name: string): string {
    return this.busRename.get(name) ?? this.busRename.get('*') ?? name;
  }

  private defaultBusIndex(): number {
    if (this.defaultBusSlot < 0) this.defaultBusSlot = busIndex(this.batch, this.renamed(this.defaultBus));
    return this.defaultBusSlot;
  }

  private bad(reason: string, b: Uint8Array, s: number, e: number): void {
    this.stats.badLines++;
    this.lastWasErrorFrame = false;
    if (this.stats.badLineSamples.length < this.maxSamples) {
      const text = Buffer.from(b.buffer, b.byteOffset + s, Math.min(e - s, 200)).toString('latin1');
      this.stats.badLineSamples.push({ line: this.lineNo, reason, text });
    }
  }

  private badBool(reason: string, b: Uint8Array, s: number, e: number): false {
    this.bad(reason, b, s, e);
    return false;
  }

  private badNum(reason: string, b: Uint8Array, s: number, e: number): -1 {
    this.bad(reason, b, s, e);
    return -1;
  }
}
