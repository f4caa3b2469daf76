import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFrameBatch, FrameFlag, pushFrame } from '../../drivers/can/frame-batch.js';
import { loadDbcFile, type DbcDatabase } from '../../agent/decode/dbc-loader.js';
import { Decoder, FrameStatus } from '../../agent/decode/decoder.js';
import { HISTORY_SLOTS } from '../../agent/decode/payload-history.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { decodeSource } from '../../agent/decode/decode-codegen.js';
import { corpusFile } from '../helpers/corpus.js';
import { decodeFrame, hex, randomBytes, seededRandom } from './decode-one.js';
import { referenceDecode } from './reference-codec.js';

const fixture = (name: string) => loadDbcFile(join(import.meta.dirname, '..', 'fixtures', 'dbc', name)).db;
const decoderFor = (...dbs: DbcDatabase[]) => new Decoder([{ bus: '*', databases: dbs }]);
const entries = (m: Map<string, number>) => Object.fromEntries(m);

describe('Decoder: signal layouts (values worked out by hand from the payload bits)', () => {
  const decoder = decoderFor(fixture('layout.dbc'));

  it('reads Motorola signals across bytes, signed negatives, Intel signals across bytes', () => {
    // 0A BC 80 40 FC 0F 00 80:
    //  MotoCross  = byte0 bits 3..0, byte1        = 0xA,0xBC     -> 0xABC = 2748
    //  MotoSigned = byte2 bits 7..0, byte3 bits 7..6 = 0x80,01   -> 0x201 (10-bit) = -511 -> -511*0.5-10
    //  IntelCross = byte4 bits 7..2 (low 6), byte5 bits 5..0 (high 6) = 63 + 15*64 = 1023 -> 1023*0.1
    //  IntelSigned= bytes 6..7 little endian 0x8000 -> -32768
    const { values } = decodeFrame(decoder, { id: 256, data: hex('0A BC 80 40 FC 0F 00 80') });
    expect(entries(values)).toEqual({ MotoCross: 2748, MotoSigned: -265.5, IntelCross: 1023 * 0.1, IntelSigned: -32768 });
  });

  it('reads IEEE float32 (Intel and Motorola, scaled) and float64', () => {
    // float32 1.5 = 3FC00000 (little endian in bytes 0..3); float32 -2.25 = C0100000 (big endian in
    // bytes 4..7, start bit 39) scaled *2+1 = -3.5; float64 pi = 400921FB54442D18 little endian.
    const { values } = decodeFrame(decoder, { id: 512, data: hex('0000C03F C0100000 182D4454FB210940') });
    expect(entries(values)).toEqual({ F32Intel: 1.5, F32Moto: -3.5, F64Intel: Math.PI });
  });

  it('reads 64-bit integers exactly where a double can hold them, correctly rounded beyond', () => {
    const a = decodeFrame(decoder, { id: 1024, data: hex('EFCDAB8967452301 FFFFFFFFFFFFFFFB') });
    expect(a.values.get('U64')).toBe(Number(0x0123456789abcdefn)); // one rounding, like Python's float(int)
    expect(a.values.get('S64Moto')).toBe(-5);
    const b = decodeFrame(decoder, { id: 1024, data: hex('FFFFFFFFFFFFFFFF 8000000000000000') });
    expect(b.values.get('U64')).toBe(2 ** 64);
    expect(b.values.get('S64Moto')).toBe(-(2 ** 63));
    const c = decodeFrame(decoder, { id: 1024, data: hex('FFFFFFFFFFFF1F00 0000000000000001') });
    expect(c.values.get('U64')).toBe(2 ** 53 - 1); // exact
    expect(c.values.get('S64Moto')).toBe(1);
  });
});

describe('Decoder: integer signals wider than 53 bits (exact in SampleBatch.wide)', () => {
  const decoder = decoderFor(fixture('wide.dbc'));
  /** Exact values by signal name: wide signals from samples.wide, others from the double. */
  function exact(id: number, data: string): Record<string, bigint | number> {
    const batch = createFrameBatch(1);
    pushFrame(batch, { bus: 'can0', id, data: hex(data), timeUs: 1 });
    const samples = createSampleBatch(1); // grown by the decoder: wide values must move along
    decoder.decode(batch, samples);
    const out: Record<string, bigint | number> = {};
    for (let k = 0; k < samples.count; k++) {
      const info = decoder.signals[samples.signal[k]];
      out[info.name] = info.wide ? (info.signal.signed ? samples.wide[k] : BigInt.asUintN(64, samples.wide[k])) : samples.value[k];
    }
    return out;
  }

  it('marks only unscaled integer signals of more than 53 bits as wide', () => {
    expect(decoder.signals.filter((s) => s.wide).map((s) => `${s.messageName}.${s.name}`)).toEqual(['WideInts.U64', 'WideInts.S64Moto', 'WideMixed.U56', 'WideMux.S60', 'WideMux.U64']);
  });

  it('decodes all-ones, sign-bit and mixed 64/56/60-bit values exactly, next to the correctly rounded doubles', () => {
    expect(exact(784, 'FFFFFFFFFFFFFFFF 8000000000000001')).toEqual({ U64: 18446744073709551615n, S64Moto: -9223372036854775807n });
    expect(exact(784, 'EFCDAB8967452301 FFFFFFFFFFFFFFFE')).toEqual({ U64: 0x0123456789abcdefn, S64Moto: -2n });
    expect(exact(785, 'FFFFFFFFFFFFFF01')).toEqual({ U56: 2n ** 56n - 1n, Small: 1 });
    expect(exact(786, 'FFFFFFFFFFFFFFFF')).toEqual({ Half64: 2 ** 64 * 0.5 });
    expect(exact(787, '01 FFFFFFFFFFFFFF07 00000000000000')).toEqual({ Mode: 1, S60: 2n ** 59n - 1n });
    expect(exact(787, '01 000000000000000F 00000000000000')).toEqual({ Mode: 1, S60: 15n * 2n ** 56n - 2n ** 60n }); // sign bit 59 set
    expect(exact(787, '02 00000000000000 FEFFFFFFFFFFFFFF')).toEqual({ Mode: 2, U64: 2n ** 64n - 2n });
    const { values } = decodeFrame(decoder, { id: 784, data: hex('FFFFFFFFFFFFFFFF 8000000000000001') });
    expect(values.get('U64')).toBe(2 ** 64); // the double stays what it was: one rounding
  });

  it('generates BigInt code only for wide signals (the normal hot path allocates nothing)', () => {
    const layout = fixture('layout.dbc');
    const wide = fixture('wide.dbc');
    expect(decodeSource(layout.messages.find((m) => m.name === 'Layout')!, 0)).not.toContain('BigInt');
    expect(decodeSource(wide.messages.find((m) => m.name === 'WideScaled')!, 0)).not.toContain('BigInt');
    expect(decodeSource(wide.messages.find((m) => m.name === 'WideMixed')!, 0).match(/BigInt\(/g)).toHaveLength(2);
  });
});

describe('Decoder: compile on first frame', () => {
  it('decodes exactly as the eagerly compiled decoder, message by message as frames arrive', () => {
    const db = fixture('mux.dbc');
    const eager = decoderFor(db);
    const lazy = new Decoder([{ bus: '*', databases: [db] }], { compile: 'first-frame' });
    for (const [id, data] of [[768, '01 AA BB 00 00 00 00 07'], [769, '51 AA BB'], [768, '02 AA BB 00 00 00 00 07'], [769, '51 AA BB']] as const) {
      expect(decodeFrame(lazy, { id, data: hex(data) })).toEqual(decodeFrame(eager, { id, data: hex(data) }));
    }
  });
});

describe("Decoder: repeats: 'mark'", () => {
  it('marks a frame that repeats one of its message\'s recent payloads, whatever the bus, without samples, and counts it as decoded', () => {
    const decoder = new Decoder([{ bus: '*', databases: [fixture('vehicle.dbc')] }], { repeats: 'mark' });
    const engine = { id: 0x18fef1fe };
    const frames: [string, string][] = [
      ['can0', '02 00 00 40 1F 5A 00 00'], // decoded, slot 0
      ['can0', '02 00 00 40 1F 5A 00 00'], // repeat of slot 0
      ['can1', '02 00 00 40 1F 5A 00 00'], // same message and payload on another bus: the same values
      ['can1', '02 00 00 40 1F 5B 00 00'], // one byte differs: decoded, slot 1
      ['can0', '02 00 00 40 1F 5A 00 00'], // not the previous payload but a recent one: repeat of slot 0
      ['can1', '02 00 00 40 1F'], // a prefix of a kept payload: decoded (short), slot 2
      ['can1', '02 00 00 40 1F'], // repeat of a short frame: still short
    ];
    // One batch, as the CLI's parser delivers them.
    const batch = createFrameBatch(frames.length);
    frames.forEach(([bus, data], i) => pushFrame(batch, { bus, ...engine, flags: FrameFlag.EXTENDED, data: hex(data), timeUs: i }));
    const samples = createSampleBatch(4);
    decoder.decode(batch, samples);
    const { REPEAT, SHORT } = FrameStatus;
    expect(Array.from(decoder.frameStatus.subarray(0, frames.length))).toEqual([0, REPEAT, REPEAT, 0, REPEAT, SHORT, REPEAT | SHORT]);
    expect(Array.from(decoder.frameSlot.subarray(0, frames.length))).toEqual([0, 0, 0, 1, 0, 2, 2]);
    const perFrame = frames.map((_, i) => Array.from(samples.frame.subarray(0, samples.count)).filter((f) => f === i).length);
    expect(perFrame).toEqual([3, 0, 0, 3, 0, 2, 0]);
    // Counted as if decoded: 5 full frames of 3 signals, 2 short frames of 2.
    expect(decoder.stats).toMatchObject({ frames: 7, decoded: 7, short: 2, samples: 19 });
  });

  it(`keeps ${HISTORY_SLOTS} payloads per message, replacing the oldest first`, () => {
    const decoder = new Decoder([{ bus: '*', databases: [fixture('vehicle.dbc')] }], { repeats: 'mark' });
    const payload = (n: number) => [2, 0, 0, 0x40, 0x1f, n, 0, 0];
    // Payloads 0..15 fill slots 0..15; payload 16 replaces 0 in slot 0; payload 0 is decoded again and
    // replaces 1 in slot 1; payload 2 is still in slot 2; payload 1 is decoded again into slot 2.
    const sequence = [...Array.from({ length: HISTORY_SLOTS + 1 }, (_, n) => n), 0, 2, 1];
    const batch = createFrameBatch(sequence.length);
    for (const n of sequence) pushFrame(batch, { bus: 'can0', id: 0x18fef1fe, flags: FrameFlag.EXTENDED, data: payload(n), timeUs: 0 });
    decoder.decode(batch, createSampleBatch(4));
    const tail = (a: ArrayLike<number>) => Array.from(a).slice(HISTORY_SLOTS, sequence.length);
    expect(tail(decoder.frameStatus)).toEqual([0, 0, FrameStatus.REPEAT, 0]);
    expect(tail(decoder.frameSlot)).toEqual([0, 1, 2, 2]);
  });

  it('decodes every frame without the option (what the agent uses)', () => {
    const decoder = decoderFor(fixture('vehicle.dbc'));
    const again = [0, 1].map(() => decodeFrame(decoder, { id: 0x600, data: [3, 1] }));
    expect(again.map((r) => [r.status, r.values.size])).toEqual([[0, 2], [0, 2]]);
  });
});

describe('Decoder: multiplexing', () => {
  const decoder = decoderFor(fixture('mux.dbc'));
  const decode = (id: number, data: string) => decodeFrame(decoder, { id, data: hex(data) });

  it('decodes a simple multiplexed signal only when its multiplexer value selects it', () => {
    expect(entries(decode(768, '01 AA BB 00 00 00 00 07').values)).toEqual({ Kind: 1, A: 0xaa, Always: 7 });
    expect(entries(decode(768, '02 AA BB 00 00 00 00 07').values)).toEqual({ Kind: 2, B: 0xbbaa, Always: 7 });
    expect(entries(decode(768, '03 AA BB 00 00 00 00 07').values)).toEqual({ Kind: 3, Always: 7 });
  });

  it('follows SG_MUL_VAL_ ranges and cascaded multiplexers', () => {
    // Top = low nibble of byte 0, Sub = high nibble (only when Top = 1), Leaf when Sub in {0, 5..7}.
    expect(entries(decode(769, '51 AA BB').values)).toEqual({ Top: 1, Sub: 5, Leaf: 0xaa });
    expect(entries(decode(769, '01 AA BB').values)).toEqual({ Top: 1, Sub: 0, Leaf: 0xaa });
    expect(entries(decode(769, '41 AA BB').values)).toEqual({ Top: 1, Sub: 4 });
    expect(entries(decode(769, '02 AA BB').values)).toEqual({ Top: 2, Other: 0xaa });
    expect(entries(decode(769, '03 AA BB').values)).toEqual({ Top: 3, Other: 0xaa, Wide: 0xbb });
    expect(entries(decode(769, '0B AA BB').values)).toEqual({ Top: 11, Wide: 0xbb });
    expect(entries(decode(769, '04 AA BB').values)).toEqual({ Top: 4 });
  });

  it('skips the branch of a multiplexer that is cut off by a short payload', () => {
    expect(entries(decode(769, '03 AA').values)).toEqual({ Top: 3, Other: 0xaa });
    expect(entries(decode(769, '').values)).toEqual({});
  });
});

describe('Decoder: frames, buses, statistics', () => {
  const vehicle = fixture('vehicle.dbc');

  it('decodes the signals a short payload holds and flags the frame short', () => {
    const decoder = decoderFor(vehicle);
    // State: bits 0..1; Rpm: bytes 3..4; Coolant: byte 5 (Motorola start 47).
    const full = decodeFrame(decoder, { id: 0x18fef1fe, extended: true, data: hex('02 00 00 40 1F 5A 00 00') });
    expect(entries(full.values)).toEqual({ State: 2, Rpm: 0x1f40 * 0.125, Coolant: 0x5a - 40 });
    expect(full.status).toBe(0);
    const short = decodeFrame(decoder, { id: 0x18fef1fe, extended: true, data: hex('02 00 00 40 1F') });
    expect(entries(short.values)).toEqual({ State: 2, Rpm: 1000 });
    expect(short.status & FrameStatus.SHORT).toBeTruthy();
    expect(decoder.stats).toMatchObject({ frames: 2, decoded: 2, short: 1, samples: 5 });
  });

  it('decodes 64-byte CAN FD frames with signals at the far end', () => {
    const data = new Uint8Array(64);
    data[0] = 7;
    data[32] = 0x12;
    data[33] = 0x34;
    data[63] = 0xfe; // -2 * -2
    const { values } = decodeFrame(decoderFor(vehicle), { id: 0x200, extended: true, data, flags: FrameFlag.FD });
    expect(entries(values)).toEqual({ First: 7, MidMoto: 0x1234, Last: 4 });
  });

  it('matches the extended flag: a standard and a 29-bit frame with the same number are different messages', () => {
    const decoder = decoderFor(vehicle);
    expect(decodeFrame(decoder, { id: 0x600, data: [3, 1] }).messageIndex).toBe(decoder.messages.findIndex((m) => m.name === 'Gear'));
    expect(decodeFrame(decoder, { id: 0x600, extended: true, data: [3, 1] }).messageIndex).toBe(-1);
    expect(decodeFrame(decoder, { id: 0x200, data: new Uint8Array(64) }).messageIndex).toBe(-1); // FdWide is 29-bit
    expect(decoder.stats).toMatchObject({ frames: 3, decoded: 1, unknownId: 2 });
  });

  it('gives VAL_ labels for decoded values', () => {
    const decoder = decoderFor(vehicle);
    const gear = decoder.signals.find((s) => s.name === 'Selected')!;
    const state = decoder.signals.find((s) => s.name === 'State')!;
    expect(decoder.labelOf(gear.index, 3)).toBe('D');
    expect(decoder.labelOf(gear.index, 9)).toBeUndefined();
    expect(decoder.labelOf(state.index, 1)).toBe('Cranking');
    expect(decoder.labelOf(decoder.signals.find((s) => s.name === 'Rpm')!.index, 1)).toBeUndefined();
  });

  it('uses bus-specific databases before the "*" ones, and filters IDs per bus', () => {
    const other = loadDbcFile(corpusFile('cantools-tests/files/dbc/motohawk.dbc')).db; // ExampleMessage 0x1F0
    const decoder = new Decoder([
      { bus: 'body', databases: [other] },
      { bus: '*', databases: [vehicle] },
    ]);
    expect(decodeFrame(decoder, { bus: 'body', id: 0x1f0, data: new Uint8Array(8) }).values.has('Temperature')).toBe(true);
    expect(decodeFrame(decoder, { bus: 'chassis', id: 0x1f0, data: new Uint8Array(8) }).messageIndex).toBe(-1);
    expect(decodeFrame(decoder, { bus: 'body', id: 0x600, data: [1, 0] }).values.get('Selected')).toBe(1);
    expect(decoder.filterIds('chassis')).toEqual([
      { id: 0x600, extended: false },
      { id: 0x200, extended: true },
      { id: 0x18fef1fe, extended: true },
    ]);
    expect(decoder.filterIds('body')).toContainEqual({ id: 0x1f0, extended: false });
    expect(decoder.signals.filter((s) => s.bus === 'body').map((s) => s.messageName)).toContain('ExampleMessage');
  });

  it('skips remote and error frames, appends after existing samples, grows a small sample batch', () => {
    const decoder = decoderFor(vehicle);
    const batch = createFrameBatch(8);
    pushFrame(batch, { bus: 'can0', id: 0x600, data: [], flags: FrameFlag.RTR, timeUs: 10 });
    pushFrame(batch, { bus: 'can0', id: 0x4, data: new Uint8Array(8), flags: FrameFlag.ERROR, timeUs: 11 });
    for (let i = 0; i < 5; i++) pushFrame(batch, { bus: 'can0', id: 0x600, data: [i, 1], timeUs: 100 + i });
    const samples = createSampleBatch(2);
    samples.count = 1; // a sample already there stays
    samples.signal[0] = 99;
    decoder.decode(batch, samples);
    expect(decoder.stats).toMatchObject({ frames: 7, decoded: 5, skipped: 2, unknownId: 0, samples: 10 });
    expect(samples.count).toBe(11);
    expect(samples.capacity).toBeGreaterThanOrEqual(11);
    expect(samples.signal[0]).toBe(99);
    expect([...decoder.frameMessage.subarray(0, 3)]).toEqual([-1, -1, decoder.messages.findIndex((m) => m.name === 'Gear')]);
    const selected = decoder.signals.find((s) => s.name === 'Selected')!.index;
    const rows = Array.from({ length: 10 }, (_, j) => [samples.signal[1 + j], samples.value[1 + j], samples.timeUs[1 + j], samples.frame[1 + j]]);
    expect(rows.filter((r) => r[0] === selected)).toEqual([0, 1, 2, 3, 4].map((i) => [selected, i, 100 + i, 2 + i]));
  });
});

describe('Decoder against an independent bit-by-bit reader, random payloads on real DBCs', () => {
  const files = [
    'dbc/opendbc/hyundai_can.dbc',
    'dbc/opendbc/psa_aee2010_r3.dbc',
    'dbc/opendbc/vw_mqb.dbc',
    'dbc/opendbc/tesla_can.dbc',
    'dbc/opendbc/FORD_CADS_64.dbc',
    'dbc/opendbc/gm_global_a_lowspeed_1818125.dbc',
    'dbc/opendbc-generated/hyundai_canfd_generated.dbc',
    'dbc/opendbc-quirks/mazda_2017.dbc',
    'cantools-tests/files/dbc/signed.dbc',
    'cantools-tests/files/dbc/floating_point.dbc',
    'cantools-tests/files/dbc/fd_test.dbc',
    'cantools-tests/files/dbc/multiplex_2.dbc',
    'cantools-tests/files/dbc/issue_184_extended_mux_cascaded.dbc',
    'cantools-tests/files/dbc/padding_bit_order.dbc',
    'cantools-tests/files/dbc/big_numbers.dbc',
  ];
  for (const file of files) {
    it(file, () => {
      const { db } = loadDbcFile(corpusFile(file));
      const decoder = decoderFor(db);
      const rand = seededRandom(7);
      let compared = 0;
      for (const message of db.messages) {
        for (let round = 0; round < 12; round++) {
          // Mostly full payloads, some shorter than the DBC length, all bytes random.
          const length = round % 4 === 3 ? Math.floor(rand() * message.length) : message.length;
          const data = randomBytes(rand, length);
          const got = decodeFrame(decoder, { id: message.id, extended: message.extended, data });
          const want = referenceDecode(message, data);
          expect(got.messageIndex, `${message.name}`).toBeGreaterThanOrEqual(0);
          expect(entries(got.values), `${message.name} ${Buffer.from(data).toString('hex')}`).toEqual(entries(want));
          for (const [name, value] of want) expect(Object.is(got.values.get(name), value), `${message.name}.${name}`).toBe(true);
          compared += want.size;
        }
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
});
