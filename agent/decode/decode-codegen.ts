/**
 * Compiles one DBC message into a specialised decode function (JavaScript source run through
 * `new Function`): straight-line byte reads and shifts per signal, constants inlined, no allocation.
 *
 * Generated function: (d, o, n, S, V, k, W) => k'
 *   d = payload bytes (FrameBatch.data), o = offset of this frame's payload, n = payload length,
 *   S/V = SampleBatch signal/value arrays, k = next free sample slot, W = SampleBatch.wide (written
 *   only by signals wider than 53 bits, see isWideInteger); returns the next free slot.
 *
 * Semantics follow cantools (decode with allow_truncated): physical = raw * factor + offset in
 * doubles; a signal is decoded only when all its bytes are present; a multiplexed signal only when
 * its multiplexer was decoded and its raw value is in the signal's multiplexer ranges. Signals come
 * out in cantools' order: a node's signals by start bit, then each multiplexer's selected branch.
 */
import { lastByte, signalSegments, splitSegments, type BitSegment } from './bit-layout.js';
import type { DbcMessage, DbcSignal } from './dbc-types.js';

export type MessageDecodeFn = (d: Uint8Array, o: number, n: number, S: Uint32Array, V: Float64Array, k: number, W: BigInt64Array) => number;

/**
 * An integer signal whose values a double cannot always hold (more than 53 bits) and that cantools
 * yields as an exact Python int (factor 1, offset 0): the decoder also writes it to W as a BigInt.
 * Only these signals allocate; a scaled wide signal stays a double, as cantools computes it.
 */
export function isWideInteger(signal: DbcSignal): boolean {
  return signal.valueType === 'int' && signal.length > 53 && signal.factor === 1 && signal.offset === 0;
}

/** Largest number of single-value switch cases before falling back to range tests per signal. */
const MAX_SWITCH_CASES = 1024;

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function literal(n: number): string {
  if (Object.is(n, -0)) return '(-0)';
  return n < 0 ? `(${String(n)})` : String(n);
}

/** OR of the segment bit-fields, each shifted to its place in the value (positions < 32). */
function bitsExpr(segments: readonly BitSegment[]): string {
  const terms = segments.map((s) => {
    let t = `d[o + ${s.byte}]`;
    if (s.shift > 0) t = `(${t} >> ${s.shift})`;
    if (s.shift + s.bits < 8) t = `(${t} & ${(1 << s.bits) - 1})`;
    if (s.pos > 0) t = `(${t} << ${s.pos})`;
    return t;
  });
  return terms.length === 1 ? terms[0] : `(${terms.join(' | ')})`;
}

/** Expression for the raw value: integer (exact up to 53 bits, correctly rounded beyond) or IEEE float. */
export function rawValueExpr(signal: DbcSignal): string {
  const segments = signalSegments(signal.startBit, signal.length, signal.byteOrder) as BitSegment[];
  const L = signal.length;
  if (signal.valueType === 'float32') return `(U32[0] = ${bitsExpr(segments)}, F32[0])`;
  if (L < 32) {
    const e = bitsExpr(segments);
    return signal.signed ? `(${e} << ${32 - L} >> ${32 - L})` : e;
  }
  if (L === 32) return signal.signed ? `(${bitsExpr(segments)} | 0)` : `(${bitsExpr(segments)} >>> 0)`;
  const { hi, lo } = halvesExpr(signal, segments);
  if (signal.valueType === 'float64') {
    const [loIndex, hiIndex] = littleEndianHost ? [0, 1] : [1, 0];
    return `(U32[${loIndex}] = ${lo}, U32[${hiIndex}] = ${hi}, F64[0])`;
  }
  // hi * 2^32 is exact; adding lo rounds once, like Python's float(int).
  return `(${hi} * 4294967296 + ${lo})`;
}

/** The two 32-bit halves of a value of more than 32 bits: lo unsigned, hi sign-extended for a signed integer. */
function halvesExpr(signal: DbcSignal, segments: BitSegment[]): { hi: string; lo: string } {
  const { low, high } = splitSegments(segments, 32);
  const hiBits = signal.length - 32;
  let hi = bitsExpr(high);
  if (signal.valueType === 'float64') return { hi, lo: `(${bitsExpr(low)} >>> 0)` };
  if (signal.signed) hi = hiBits === 32 ? `(${hi} | 0)` : `(${hi} << ${64 - signal.length} >> ${64 - signal.length})`;
  else if (hiBits === 32) hi = `(${hi} >>> 0)`;
  return { hi, lo: `(${bitsExpr(low)} >>> 0)` };
}

/** Statements that set h and l to the halves of a wide integer signal (see isWideInteger). */
function wideHalvesStatement(signal: DbcSignal): string {
  const { hi, lo } = halvesExpr(signal, signalSegments(signal.startBit, signal.length, signal.byteOrder) as BitSegment[]);
  return `const h = ${hi}, l = ${lo};`;
}

function physicalExpr(signal: DbcSignal, raw: string): string {
  if (signal.factor === 1 && signal.offset === 0) return raw;
  return `${raw} * ${literal(signal.factor)} + ${literal(signal.offset)}`;
}

function startKey(signal: DbcSignal): number {
  const b = signal.startBit;
  return signal.byteOrder === 'big_endian' ? (b >> 3) * 8 + (7 - (b & 7)) : b;
}

interface Node {
  signal: DbcSignal;
  index: number;
  needBytes: number;
}

/** Builds the source of the decode function body for `message`, signal i having global index first + i. */
export function decodeSource(message: DbcMessage, firstSignalIndex: number): string {
  const nodes: Node[] = message.signals.map((signal, i) => ({
    signal,
    index: firstSignalIndex + i,
    needBytes: lastByte(signalSegments(signal.startBit, signal.length, signal.byteOrder) as BitSegment[]) + 1,
  }));
  // cantools sorts a message's signals by start bit (MSB-first position for Motorola); samples follow that order.
  nodes.sort((a, b) => startKey(a.signal) - startKey(b.signal));
  const muxVar = new Map<string, string>();
  nodes.forEach((node) => {
    if (node.signal.isMultiplexer) muxVar.set(node.signal.name, `m${muxVar.size}`);
  });
  const children = (muxName: string | undefined) => nodes.filter((n) => n.signal.multiplexerSignal === muxName);

  const lines: string[] = [];
  // Multiplexer raw values: NaN until decoded, so a truncated multiplexer selects no branch.
  if (muxVar.size > 0) lines.push(`let r = 0, ${[...muxVar.values()].map((v) => `${v} = NaN`).join(', ')};`);

  const emitSignal = (node: Node, indent: string) => {
    const mux = muxVar.get(node.signal.name);
    lines.push(`${indent}if (n >= ${node.needBytes}) {`);
    let raw = rawValueExpr(node.signal);
    if (isWideInteger(node.signal)) {
      lines.push(`${indent}  ${wideHalvesStatement(node.signal)}`, `${indent}  W[k] = (BigInt(h) << 32n) | BigInt(l);`);
      raw = '(h * 4294967296 + l)';
    }
    if (mux) {
      lines.push(`${indent}  ${mux} = r = ${raw};`);
      lines.push(`${indent}  V[k] = ${physicalExpr(node.signal, 'r')}; S[k++] = ${node.index};`);
    } else {
      lines.push(`${indent}  V[k] = ${physicalExpr(node.signal, raw)}; S[k++] = ${node.index};`);
    }
    lines.push(`${indent}}`);
  };

  // A node = a set of signals decoded together; then each multiplexer among them selects its branch.
  const emitNode = (members: Node[], indent: string, depth: number) => {
    if (depth > 32) throw new Error(`message ${message.name}: multiplexing nested too deeply`);
    for (const node of members) emitSignal(node, indent);
    for (const node of members) {
      if (node.signal.isMultiplexer) emitBranches(node.signal.name, indent, depth);
    }
  };

  const emitBranches = (muxName: string, indent: string, depth: number) => {
    const kids = children(muxName);
    if (kids.length === 0) return;
    const v = muxVar.get(muxName)!;
    const values = new Set<number>();
    let cases = 0;
    for (const kid of kids) {
      for (const [lo, hi] of kid.signal.multiplexerRanges ?? []) {
        cases += hi - lo + 1;
        if (cases > MAX_SWITCH_CASES) break;
        for (let x = lo; x <= hi; x++) values.add(x);
      }
    }
    const selects = (kid: Node, x: number) => (kid.signal.multiplexerRanges ?? []).some(([lo, hi]) => x >= lo && x <= hi);
    if (cases <= MAX_SWITCH_CASES) {
      lines.push(`${indent}switch (${v}) {`);
      for (const x of [...values].sort((a, b) => a - b)) {
        lines.push(`${indent}  case ${x}: {`);
        emitNode(kids.filter((kid) => selects(kid, x)), `${indent}    `, depth + 1);
        lines.push(`${indent}    break;`, `${indent}  }`);
      }
      lines.push(`${indent}}`);
      return;
    }
    // Wide SG_MUL_VAL_ ranges: test each signal's ranges (kept in DBC order), then nested branches.
    const test = (kid: Node) => (kid.signal.multiplexerRanges ?? []).map(([lo, hi]) => (lo === hi ? `${v} === ${lo}` : `(${v} >= ${lo} && ${v} <= ${hi})`)).join(' || ') || 'false';
    for (const kid of kids) {
      lines.push(`${indent}if (${test(kid)}) {`);
      emitSignal(kid, `${indent}  `);
      lines.push(`${indent}}`);
    }
    for (const kid of kids) {
      if (!kid.signal.isMultiplexer) continue;
      lines.push(`${indent}if (${test(kid)}) {`);
      emitBranches(kid.signal.name, `${indent}  `, depth + 1);
      lines.push(`${indent}}`);
    }
  };

  emitNode(children(undefined), '', 0);
  lines.push('return k;');
  return lines.join('\n');
}

const scratch = new ArrayBuffer(8);
const U32 = new Uint32Array(scratch);
const F32 = new Float32Array(scratch, 0, 1);
const F64 = new Float64Array(scratch);

/** Compiles the decode function of one message (done once per message when a Decoder is built). */
export function compileMessageDecoder(message: DbcMessage, firstSignalIndex: number): MessageDecodeFn {
  const body = decodeSource(message, firstSignalIndex);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('U32', 'F32', 'F64', `'use strict';\nreturn function decode_${message.name.replace(/\W/g, '_')}(d, o, n, S, V, k, W) {\n${body}\n};`);
  return factory(U32, F32, F64) as MessageDecodeFn;
}
