import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFrameBatch, framePayload, FrameFlag, type FrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser, type CandumpParserOptions } from '../../drivers/replay/candump-parser.js';
import { corpusFile } from '../helpers/corpus.js';

/** A frame copied out of a batch, for comparisons. */
interface Frame {
  bus: string;
  id: number;
  flags: number;
  len: number;
  timeUs: number;
  data: number[];
  idDigits: number;
}

/** Parses `chunks` and returns every frame delivered, plus the parser. */
function parseAll(chunks: Array<string | Uint8Array>, options?: CandumpParserOptions, capacity = 64): { frames: Frame[]; parser: CandumpParser } {
  const frames: Frame[] = [];
  const batch = createFrameBatch(capacity);
  const parser: CandumpParser = new CandumpParser(batch, (b) => collect(b, parser, frames), options);
  for (const chunk of chunks) parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  parser.end();
  return { frames, parser };
}

function collect(b: FrameBatch, parser: CandumpParser, into: Frame[]): void {
  for (let i = 0; i < b.count; i++) {
    into.push({
      bus: b.busNames[b.bus[i]],
      id: b.id[i],
      flags: b.flags[i],
      len: b.len[i],
      timeUs: b.timeUs[i],
      data: [...framePayload(b, i)],
      idDigits: parser.idDigits[i],
    });
  }
}

const { EXTENDED, FD, BRS, ESI, RTR, ERROR } = FrameFlag;

describe('CandumpParser, candump -L log form', () => {
  it('reads classic, 29-bit, remote, CAN FD and error frames with their flags and payloads', () => {
    const { frames, parser } = parseAll([
      [
        '(1436509052.249713) can0 123#DEADBEEF',
        '(1436509052.249714) can0 00770000#7900040000000000',
        '(1436509052.249715) can0 000#R',
        '(1436509052.249716) can0 7FF#r4',
        '(1436509052.249717) can0 12345678#R8',
        '(1436509052.249718) can0 123##1' + '11'.repeat(12),
        '(1436509052.249719) can0 1ABCDEF0##3' + 'AB'.repeat(64),
        '(1436509052.249720) can0 456##0',
        '(1436509052.249721) can0 20000080#0000000000000000',
        '(1436509052.249722) can0 0F1#11.22.33',
        '(1436509052.249723) can0 124#0102 T',
        '(1436509052.249724) can0 125#0304 R',
        '(1436509052.249725) can0 126#1122334455667788_C',
        '(1436509052.249726) can0 127#',
        '',
      ].join('\n'),
    ]);
    expect(parser.stats.badLineSamples).toEqual([]);
    expect(frames.map((f) => [f.id, f.flags, f.len, f.idDigits])).toEqual([
      [0x123, 0, 4, 3],
      [0x770000, EXTENDED, 8, 8],
      [0, RTR, 0, 3],
      [0x7ff, RTR, 4, 3],
      [0x12345678, EXTENDED | RTR, 8, 8],
      [0x123, FD | BRS, 12, 3],
      [0x1abcdef0, EXTENDED | FD | BRS | ESI, 64, 8],
      [0x456, FD, 0, 3],
      [0x80, ERROR, 8, 8],
      [0xf1, 0, 3, 3],
      [0x124, 0, 2, 3],
      [0x125, 0, 2, 3],
      [0x126, 0, 8, 3],
      [0x127, 0, 0, 3],
    ]);
    expect(frames[0].data).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(frames[1].data).toEqual([0x79, 0, 4, 0, 0, 0, 0, 0]);
    expect(frames[3].data).toEqual([0, 0, 0, 0]);
    expect(frames[5].data).toEqual(new Array(12).fill(0x11));
    expect(frames[6].data).toEqual(new Array(64).fill(0xab));
    expect(frames[9].data).toEqual([0x11, 0x22, 0x33]);
    expect(frames[12].data).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    expect(frames.map((f) => f.timeUs - 1436509052249713)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(parser.stats).toMatchObject({ lines: 14, frames: 14, badLines: 0 });
  });

  it('turns timestamps into exact integer microseconds', () => {
    const { frames } = parseAll([
      [
        '(1436509052.249713) can0 123#00',
        '(1733187989.936605) can0 123#00',
        '(0000000166.000000) vcan0 123#00',
        '(166.5) vcan0 123#00',
        '(1.000000999) vcan0 123#00',
        '(0.000001) vcan0 123#00',
        '(9007199254.740991) can0 123#00',
      ].join('\n'),
    ]);
    expect(frames.map((f) => f.timeUs)).toEqual([1436509052249713, 1733187989936605, 166000000, 166500000, 1000000, 1, 9007199254740991]);
  });

  it('takes lines without an interface (cansend syntax) as frames of the default bus', () => {
    const { frames } = parseAll(['(10.000000) 123#01\n321#02\n'], { defaultBus: 'body', receiveTimeUs: () => 42 });
    expect(frames.map((f) => [f.bus, f.id, f.timeUs])).toEqual([
      ['body', 0x123, 10000000],
      ['body', 0x321, 42],
    ]);
  });
});

describe('CandumpParser, candump ascii form', () => {
  it('reads the columns candump prints without -L, with the receive time when untimed', () => {
    const { frames, parser } = parseAll(
      [
        [
          '  can0  123   [8]  DE AD BE EF 01 02 03 04',
          '  vcan0  12345678   [2]  01 02',
          '  can0  321   [4]  remote request',
          '  can0  0F1   [0] ',
          '  can0   F1   [1]  7F',
          '  can0  123  [32]  ' + new Array(32).fill('5A').join(' '),
          '  can0  1FFFFFFF  [64]  ' + new Array(64).fill('A5').join(' '),
          '  can0  TX B E  456  [12]  ' + new Array(12).fill('01').join(' '),
          '  can0  RX - -  457  [08]  01 02 03 04 05 06 07 08',
          '  can0  20000004   [8]  00 04 00 00 00 00 00 00   ERRORFRAME',
          '\tcontroller-problem{rx-error-warning}',
          '  can0  124   [2]  41 42                     \'AB\'',
          ' (1436509052.249713)  can1  125   [1]  99',
          ' (000.000120)  can1  126   [1]  98',
        ].join('\n'),
      ],
      { receiveTimeUs: () => 7_000_000 },
    );
    expect(parser.stats.badLineSamples).toEqual([]);
    expect(frames.map((f) => [f.bus, f.id, f.flags, f.len, f.idDigits])).toEqual([
      ['can0', 0x123, 0, 8, 3],
      ['vcan0', 0x12345678, EXTENDED, 2, 8],
      ['can0', 0x321, RTR, 4, 3],
      ['can0', 0xf1, 0, 0, 3],
      ['can0', 0xf1, 0, 1, 2],
      ['can0', 0x123, FD, 32, 3],
      ['can0', 0x1fffffff, EXTENDED | FD, 64, 8],
      ['can0', 0x456, FD | BRS | ESI, 12, 3],
      ['can0', 0x457, FD, 8, 3],
      ['can0', 0x4, ERROR, 8, 8],
      ['can0', 0x124, 0, 2, 3],
      ['can1', 0x125, 0, 1, 3],
      ['can1', 0x126, 0, 1, 3],
    ]);
    expect(frames[0].data).toEqual([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
    expect(frames[2].data).toEqual([0, 0, 0, 0]);
    expect(frames[6].data).toEqual(new Array(64).fill(0xa5));
    expect(frames[9].data).toEqual([0, 4, 0, 0, 0, 0, 0, 0]);
    expect(frames.slice(0, 11).every((f) => f.timeUs === 7_000_000)).toBe(true);
    expect(frames[11].timeUs).toBe(1436509052249713);
    expect(frames[12].timeUs).toBe(120);
  });
});

describe('CandumpParser, buses', () => {
  it('keeps interleaved buses apart and renames them', () => {
    const lines = [];
    for (let k = 0; k < 10; k++) lines.push(`(1.${String(k).padStart(6, '0')}) ${['can0', 'can1', 'vcan10'][k % 3]} ${(0x100 + k).toString(16)}#${k.toString(16).padStart(2, '0')}`);
    const { frames } = parseAll([lines.join('\n')], { busRename: { can0: 'body', vcan10: 'chassis' } });
    expect(frames.map((f) => f.bus)).toEqual(['body', 'can1', 'chassis', 'body', 'can1', 'chassis', 'body', 'can1', 'chassis', 'body']);
    expect(frames.map((f) => f.id)).toEqual([...Array(10).keys()].map((k) => 0x100 + k));
  });

  it("renames every other interface with the '*' key", () => {
    const text = '(1.0) can0 100#01\n(1.1) can1 101#02\n(1.2) 102#03\n';
    const { frames } = parseAll([text], { busRename: { can1: 'chassis', '*': 'body' } });
    expect(frames.map((f) => f.bus)).toEqual(['body', 'chassis', 'body']);
  });

  it('appends to a bus table the batch already has', () => {
    const batch = createFrameBatch(8, ['body', 'can1']);
    const parser = new CandumpParser(batch, () => {}, { busRename: { can0: 'body' } });
    parser.push(Buffer.from('(1.0) can2 1#\n'));
    parser.push(Buffer.from('(1.0) can2 001#\n(1.0) can0 002#\n(1.0) can1 003#\n'));
    expect(batch.busNames).toEqual(['body', 'can1', 'can2']);
    expect([...batch.bus.subarray(0, 3)]).toEqual([2, 0, 1]);
  });
});

describe('CandumpParser, CAN FD lengths that no DLC encodes', () => {
  // can-utils' parse_canframe (lib.c) sets len to the number of bytes given, whatever it is, and only
  // cansend rounds it up (can_fd_dlc2len(can_fd_len2dlc(len))); cantools' log reader takes every byte.
  it('keeps the payload with its own length, in both line forms, and counts no bad line', () => {
    const ten = [...Array(10).keys()].map((k) => k + 1);
    const hex = ten.map((b) => b.toString(16).padStart(2, '0')).join('');
    const { frames, parser } = parseAll([
      `(1.000000) can0 123##1${hex}\n`,
      `(1.000001) can0 1ABCDEF0##0${'EE'.repeat(33)}\n`,
      `  can0  124  [10]  ${hex.match(/../g)!.join(' ')}\n`,
      `(1.000002) can0 125##2${'11'.repeat(9)}\n`,
    ]);
    expect(parser.stats.badLines).toBe(0);
    expect(frames.map((f) => [f.id, f.len, f.flags])).toEqual([
      [0x123, 10, FD | BRS],
      [0x1abcdef0, 33, FD | EXTENDED],
      [0x124, 10, FD],
      [0x125, 9, FD | ESI],
    ]);
    expect(frames[0].data).toEqual(ten);
    expect(frames[2].data).toEqual(ten);
  });
});

describe('CandumpParser, bad input', () => {
  it('counts bad lines with their line number and reason, keeps parsing, skips blanks and comments', () => {
    const text = [
      '(1.000000) can0 123#0102', // 1 good
      'garbage', // 2
      '(1.000000) can0 123#010', // 3 odd digits
      '(1.000000) can0 123#010203040506070809', // 4 9 bytes classic
      '(1.000000) can0 123##1' + '00'.repeat(65), // 5 65 bytes FD
      '(1.000000) can0 123##0' + '0'.repeat(19), // 6 odd digits FD
      '(1.000000) can0 123DEAD', // 7 missing '#'
      '(1.0x0000) can0 123#00', // 8 bad timestamp
      '(1.000000 can0 123#00', // 9 bad timestamp (no ')')
      '', // 10 blank
      '# a comment', // 11
      '(1.000000) can0 800#00', // 12 11-bit ID too large
      '(1.000000) can0 12345#00', // 13 5 digits
      '(1.000000) can0 123#0G', // 14 bad hex
      '(1.000000) can0 123##0102', // 15 odd FD payload
      '(1.000000) can0 123#R9', // 16 RTR DLC 9
      '(1.000000) can0 123##', // 17 FD without flags
      '(1.000000) can0 123#00 X', // 18 trailing garbage
      '  can0  123   [9]  00 00 00 00 00 00 00 00 00', // 19 classic > 8
      '  can0  123   [4]  00 00', // 20 fewer bytes than [4]
      '  can0  123   [1]  00 01', // 21 more bytes than [1]
      '  can0  123  [65]  ' + new Array(65).fill('00').join(' '), // 22 65 bytes FD
      '(1.000000) can0 E0000000#00', // 23 flag bits above 29 bits
      '(1.000000) can0 124#0304', // 24 good
    ].join('\r\n');
    const { frames, parser } = parseAll([text]);
    expect(frames.map((f) => f.id)).toEqual([0x123, 0x124]);
    const { stats } = parser;
    expect(stats.lines).toBe(24);
    expect(stats.frames).toBe(2);
    expect(stats.badLines).toBe(20);
    const byLine = new Map(stats.badLineSamples.map((s) => [s.line, s.reason]));
    expect([...byLine.keys()]).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(byLine.get(3)).toMatch(/odd number of hex digits/);
    expect(byLine.get(4)).toMatch(/9 bytes exceeds 8/);
    expect(byLine.get(5)).toMatch(/65 bytes exceeds 64/);
    expect(byLine.get(6)).toMatch(/odd number of hex digits/);
    expect(byLine.get(7)).toMatch(/missing '#'|bad character in CAN ID/);
    expect(byLine.get(8)).toMatch(/bad timestamp/);
    expect(byLine.get(9)).toMatch(/bad timestamp/);
    expect(byLine.get(12)).toMatch(/0x800 exceeds 0x7FF/);
    expect(byLine.get(13)).toMatch(/5 hex digits/);
    expect(byLine.get(14)).toMatch(/bad hex digit/);
    expect(byLine.get(15)).toMatch(/odd number of hex digits/);
    expect(byLine.get(16)).toMatch(/DLC 9 exceeds 8/);
    expect(byLine.get(17)).toMatch(/flags/);
    expect(byLine.get(18)).toMatch(/unexpected text/);
    expect(byLine.get(19)).toMatch(/9 bytes exceeds 8/);
    expect(byLine.get(20)).toMatch(/payload has 2 bytes, \[4\] says 4/);
    expect(byLine.get(21)).toMatch(/more payload bytes than \[1\]/);
    expect(byLine.get(22)).toMatch(/65 bytes exceeds 64/);
    expect(byLine.get(23)).toMatch(/exceeds 29 bits/);
    expect(stats.badLineSamples.find((s) => s.line === 2)?.text).toBe('garbage');
  });

  it('keeps only the first samples but counts every bad line, and survives binary garbage', () => {
    const garbage = Buffer.alloc(100_000);
    for (let k = 0; k < garbage.length; k++) garbage[k] = (k * 7919) % 251;
    const { frames, parser } = parseAll([garbage, '\n(2.000000) can0 123#01\n'], { maxBadLineSamples: 5 });
    expect(frames).toHaveLength(1);
    expect(parser.stats.badLines).toBeGreaterThan(5);
    expect(parser.stats.badLineSamples).toHaveLength(5);
  });

  it('reports a line that never ends within the carry limit as too long, then goes on', () => {
    const long = 'A'.repeat(10_000);
    const chunks = [];
    for (let k = 0; k < long.length; k += 1000) chunks.push(long.slice(k, k + 1000));
    const { frames, parser } = parseAll([...chunks, '\n(1.0) can0 123#01\n']);
    expect(frames).toHaveLength(1);
    expect(parser.stats.badLineSamples[0]).toMatchObject({ line: 1, reason: 'line longer than 4096 bytes' });
  });
});

describe('CandumpParser, streaming', () => {
  const sample = [
    '(1436509052.249713) can0 123#DEADBEEF',
    '  vcan0  12345678   [2]  01 02',
    '(1436509052.249800) can1 1ABCDEF0##3' + 'AB'.repeat(64),
    'bad line',
    '(1436509052.249900) can0 000#R',
    '(1436509052.250000) can0 20000080#0000000000000000 R',
  ].join('\r\n');

  it('gives the same frames whether the text arrives whole or byte by byte', () => {
    const kona = readFileSync(corpusFile('logs/eldominio/kona/turnonlog.log'));
    const konaHead = kona.subarray(0, kona.indexOf('\n', 20_000) + 1);
    const text = Buffer.concat([Buffer.from(sample + '\n'), konaHead]);
    const options = { receiveTimeUs: () => 5 };
    const whole = parseAll([text], options, 16);
    const bytes = [];
    for (let k = 0; k < text.length; k++) bytes.push(text.subarray(k, k + 1));
    const byByte = parseAll(bytes, options, 16);
    expect(whole.frames.length).toBeGreaterThan(400);
    expect(byByte.frames).toEqual(whole.frames);
    expect(byByte.parser.stats).toEqual(whole.parser.stats);
    expect(whole.parser.stats.badLineSamples.map((s) => s.line)).toEqual([4]);
  });

  it('flush() delivers the frames so far and keeps a partial line for later', () => {
    const ids: number[] = [];
    const parser = new CandumpParser(createFrameBatch(64), (b) => ids.push(...b.id.subarray(0, b.count)));
    parser.push(Buffer.from('(1.0) can0 101#01\n(1.0) can0 10'));
    parser.flush();
    expect(ids).toEqual([0x101]);
    parser.push(Buffer.from('2#02\n'));
    parser.flush();
    expect(ids).toEqual([0x101, 0x102]);
    parser.flush();
    expect(ids).toEqual([0x101, 0x102]);
  });

  it('parses the last line without a newline at end()', () => {
    const { frames } = parseAll(['(1.0) can0 12', '3#0', '1']);
    expect(frames.map((f) => [f.id, f.data])).toEqual([[0x123, [1]]]);
  });

  it('delivers full batches while parsing and the rest at end(), reusing the batch', () => {
    const lines = [];
    for (let k = 0; k < 10; k++) lines.push(`(1.00000${k}) can0 ${(0x700 + k).toString(16)}#${k.toString(16).padStart(2, '0')}`);
    const batch = createFrameBatch(4);
    const counts: number[] = [];
    const seen: number[] = [];
    const parser = new CandumpParser(batch, (b) => {
      expect(b).toBe(batch);
      counts.push(b.count);
      for (let i = 0; i < b.count; i++) seen.push(b.id[i]);
    });
    parser.push(Buffer.from(lines.join('\n')));
    expect(counts).toEqual([4, 4]);
    parser.end();
    expect(counts).toEqual([4, 4, 2]);
    expect(seen).toEqual([...Array(10).keys()].map((k) => 0x700 + k));
    expect(batch.count).toBe(0);
  });

  it('starts a new batch before a frame later than maxSpanUs after the batch start', () => {
    const times = [0, 1000, 4999, 5000, 5001, 20000, 20001, 100000];
    const text = times.map((t) => `(1.${String(t).padStart(6, '0')}) can0 123#01`).join('\n');
    const spans: number[][] = [];
    const batch = createFrameBatch(64);
    const parser = new CandumpParser(batch, (b) => spans.push([...b.timeUs.subarray(0, b.count)].map((t) => t - 1_000_000)), { maxSpanUs: 5000 });
    parser.push(Buffer.from(text));
    parser.end();
    expect(spans).toEqual([[0, 1000, 4999, 5000], [5001], [20000, 20001], [100000]]);
  });

  it('holds a delivered batch untouched while paused and continues on resume()', () => {
    const text = [0, 10, 20, 30, 40].map((t, k) => `(1.${String(t * 1000).padStart(6, '0')}) can0 ${(0x100 + k).toString(16)}#0${k}`).join('\n');
    const batch = createFrameBatch(64);
    const delivered: number[][] = [];
    const parser = new CandumpParser(batch, (b) => {
      delivered.push([...b.id.subarray(0, b.count)]);
      parser.pause();
    }, { maxSpanUs: 15_000 });
    parser.push(Buffer.from(text));
    expect(parser.isPaused).toBe(true);
    expect(delivered).toEqual([[0x100, 0x101]]);
    expect(batch.count).toBe(2);
    expect(() => parser.push(Buffer.from('x'))).toThrow(/paused/);
    parser.resume();
    // The last line has no newline yet: it waits for end().
    expect(parser.isPaused).toBe(false);
    expect(delivered).toEqual([[0x100, 0x101]]);
    parser.end();
    expect(delivered).toEqual([[0x100, 0x101], [0x102, 0x103]]);
    parser.resume();
    expect(delivered).toEqual([[0x100, 0x101], [0x102, 0x103], [0x104]]);
    expect(parser.isPaused).toBe(true);
    parser.resume();
    expect(parser.isPaused).toBe(false);
    expect(batch.count).toBe(0);
    expect(() => parser.pause()).toThrow(/inside onBatch/);
  });
});

/** An independent, slow reading of `(t) bus ID#HEX` lines to check the parser against. */
function referenceParse(text: string): Frame[] {
  const frames: Frame[] = [];
  for (const line of text.split('\n')) {
    const m = /^\((\d+)\.(\d{6})\) (\S+) ([0-9A-F]+)#(R|[0-9A-F]*)$/.exec(line.trim());
    if (!m) continue;
    const [, sec, usec, bus, id, payload] = m;
    const rtr = payload === 'R';
    const ext = id.length === 8;
    const data = rtr ? [] : (payload.match(/../g) ?? []).map((h) => parseInt(h, 16));
    frames.push({
      bus,
      id: parseInt(id, 16),
      flags: (ext ? EXTENDED : 0) | (rtr ? RTR : 0),
      len: data.length,
      timeUs: Number(BigInt(sec) * 1_000_000n + BigInt(usec)),
      data,
      idDigits: id.length,
    });
  }
  return frames;
}

describe('CandumpParser on the real logs of the corpus', () => {
  it.each([
    ['logs/eldominio/kona/turnonlog.log', 17_173],
    ['logs/eldominio/edge/camaro_noeculog.log', 6_236],
    ['logs/eldominio/edge/evox_moteccan.log', 537],
    ['logs/eldominio/yaris09/accellog.log', null],
    ['logs/savvycan/candump.log', 12_974],
  ])('%s: every line becomes the frame an independent reading gives', (rel, expectedFrames) => {
    const text = readFileSync(corpusFile(rel));
    const { frames, parser } = parseAll([text], undefined, 1024);
    const expected = referenceParse(text.toString('latin1'));
    if (expectedFrames !== null) expect(expected).toHaveLength(expectedFrames);
    expect(parser.stats.badLines).toBe(0);
    expect(parser.stats.frames).toBe(expected.length);
    expect(frames).toEqual(expected);
  });

  it('finds the 29-bit frames of the Camaro log and the remote requests of the Evo X log', () => {
    const camaro = parseAll([readFileSync(corpusFile('logs/eldominio/edge/camaro_noeculog.log'))]).frames;
    const ext = camaro.filter((f) => f.flags & EXTENDED);
    expect(ext).toHaveLength(174);
    expect(ext[0]).toMatchObject({ id: 0x770000, idDigits: 8, timeUs: 1717877879164093 });
    expect(camaro.filter((f) => !(f.flags & EXTENDED) && f.id === 0xf1)[0]).toMatchObject({ idDigits: 3, data: [0, 3, 0, 0x40, 0, 0] });
    const evox = parseAll([readFileSync(corpusFile('logs/eldominio/edge/evox_moteccan.log'))]).frames;
    const remote = evox.filter((f) => f.flags & RTR);
    expect(remote).toHaveLength(5);
    expect(remote[0]).toMatchObject({ id: 0, len: 0, timeUs: 1606760059167413 });
  });

  it('keeps the relative times of the SavvyCAN log on vcan0', () => {
    const { frames } = parseAll([readFileSync(corpusFile('logs/savvycan/candump.log'))], undefined, 1024);
    expect(frames[0]).toMatchObject({ bus: 'vcan0', id: 0x21a, timeUs: 166_000_000, data: [0xfe, 0x36, 0x12, 0xfe, 0x69, 0x05, 0x07, 0xad] });
    expect(new Set(frames.map((f) => f.bus))).toEqual(new Set(['vcan0']));
  });
});
