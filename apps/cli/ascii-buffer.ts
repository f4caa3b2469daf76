/**
 * Output text built as bytes: one buffer, reused, filled from `pos` and handed to a sink when full
 * or on flush(), and helpers that write ASCII text and integers straight into it (no string per
 * value). Callers reserve the room a record can need, then write with local `buf`/`pos` and store
 * `pos` back. Reusing the buffer matters: fresh memory costs a page fault per 4 KiB on first touch.
 * The buffer is a plain Uint8Array, not a node Buffer: its subarray() is a builtin, where a Buffer's
 * runs node's Buffer constructor in JavaScript (the writer takes thousands of them per second).
 */

/** Size of an AsciiBuffer's first buffer (at most). */
const FIRST_CAPACITY = 1 << 16;

export class AsciiBuffer {
  /** The bytes being filled; valid text is [0, pos). */
  buf: Uint8Array;
  pos = 0;

  /**
   * `sink` gets the filled bytes and must be done with them (or have copied them) when it returns.
   * The buffer starts at 64 KiB at most and doubles at each hand-over up to `capacity`: the first
   * text goes out early, and the hand-over path runs while the writer's code is still warming up
   * (its first run in optimised code would make V8 throw that code away and optimise it again).
   */
  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    private readonly capacity = 1 << 20,
  ) {
    this.buf = new Uint8Array(Math.min(capacity, FIRST_CAPACITY));
  }

  /** Makes room for `n` more bytes, handing the filled bytes to the sink first when they do not fit. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (this.buf.length < this.capacity) this.buf = new Uint8Array(Math.min(this.capacity, 2 * this.buf.length));
    if (n > this.buf.length) this.buf = new Uint8Array(n);
  }

  /** Hands the filled bytes to the sink. */
  flush(): void {
    if (this.pos === 0) return;
    const bytes = this.buf.subarray(0, this.pos);
    this.pos = 0;
    this.sink(bytes);
  }
}

/** Bytes of an ASCII string (built once, copied many times with putBytes). */
export function asciiBytes(s: string): Uint8Array {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/**
 * Copies `src` to `buf` at `pos`. A native copy, not a byte loop: a decode's first thousands of
 * records are written by interpreted code, where the loop was 14 ms of a 206k-frame decode; once
 * optimised, the native copy is still the faster (16 against 28-32 ns for 21 bytes).
 */
export function putBytes(buf: Uint8Array, pos: number, src: Uint8Array): number {
  buf.set(src, pos);
  return pos + src.length;
}

/** Writes a string whose characters are all ASCII (char codes < 128). */
export function putAscii(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + n;
}

/** Decimal digits of a non-negative safe integer. */
export function putUint(buf: Uint8Array, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  if (n <= 0x7fffffff) {
    // int32 arithmetic: division by 10 becomes a multiplication.
    let v = n | 0;
    const end = pos + (v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10);
    for (let i = end - 1; i >= pos; i--) {
      const q = (v / 10) | 0;
      buf[i] = 48 + v - q * 10;
      v = q;
    }
    return end;
  }
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  return putUintPadded(buf, pos, n, digits);
}

/** Decimal digits of a safe integer, '-' first when negative. */
export function putInt(buf: Uint8Array, pos: number, n: number): number {
  if (n < 0) {
    buf[pos++] = 45;
    n = -n;
  }
  return putUint(buf, pos, n);
}

/** Exactly `width` decimal digits of a non-negative integer below 10^width (zero-padded). */
export function putUintPadded(buf: Uint8Array, pos: number, n: number, width: number): number {
  if (n <= 0x7fffffff) {
    let v = n | 0;
    for (let i = pos + width - 1; i >= pos; i--) {
      const q = (v / 10) | 0;
      buf[i] = 48 + v - q * 10;
      v = q;
    }
    return pos + width;
  }
  for (let i = pos + width - 1; i >= pos; i--) {
    const q = Math.floor(n / 10);
    buf[i] = 48 + (n - q * 10);
    n = q;
  }
  return pos + width;
}
