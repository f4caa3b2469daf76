import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDbcFile, type DbcDatabase, type DbcMessage } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { EncodeError, encodeMessage } from '../../agent/decode/encoder.js';
import { corpusFile } from '../helpers/corpus.js';
import { decodeFrame, decodeMessage, hex, randomBytes, seededRandom } from './decode-one.js';
import { bitPositionsMsbFirst } from './reference-codec.js';

const byName = (db: DbcDatabase, name: string): DbcMessage => {
  const m = db.messages.find((x) => x.name === name);
  if (!m) throw new Error(`no message ${name}`);
  return m;
};
const cantools = (file: string) => loadDbcFile(corpusFile(`cantools-tests/files/dbc/${file}`)).db;
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Vectors from cantools' own test suite (tests/test_database.py: test_motohawk_encode_decode,
 * test_signed_dbc, test_float_dbc, test_padding_bit_order, test_multiplex, test_multiplex_extended),
 * for the fixtures of the corpus: the payload cantools encodes, and the values it decodes back.
 */
const CANTOOLS_VECTORS: [file: string, message: string, values: Record<string, number>, payload: string][] = [
  ['motohawk.dbc', 'ExampleMessage', { Temperature: 250.55, AverageRadius: 3.2, Enable: 1 }, 'c006e00000000000'],
  ['motohawk.dbc', 'ExampleMessage', { Temperature: 229.53, AverageRadius: 0, Enable: 0 }, '0100200000000000'],
  ['signed.dbc', 'Message64', { s64: -5 }, 'fbffffffffffffff'],
  ['signed.dbc', 'Message33', { s33: -5 }, 'fbffffff01000000'],
  ['signed.dbc', 'Message32', { s32: -5 }, 'fbffffff00000000'],
  ['signed.dbc', 'Message64big', { s64big: -5 }, 'fffffffffffffffb'],
  ['signed.dbc', 'Message33big', { s33big: -5 }, 'fffffffd80000000'],
  ['signed.dbc', 'Message32big', { s32big: -5 }, 'fffffffb00000000'],
  ['signed.dbc', 'Message378910', { s7: -40, s8big: 0x5a, s9: 0xa5, s8: -43, s3big: -4, s3: 1, s10big: -253, s7big: -9 }, 'b0b44a55870181f7'],
  ['floating_point.dbc', 'Message1', { Signal1: -129.448 }, '75931804562e60c0'],
  ['floating_point.dbc', 'Message2', { Signal1: 129.5, Signal2: 1234500.5 }, '0080014324b29649'],
  ['padding_bit_order.dbc', 'MSG0', { B: 1, A: 0x2c9, D: 0, C: 0x2c9 }, '82c9000002c90000'],
  ['padding_bit_order.dbc', 'MSG1', { E: 1, F: 0x2c9, G: 0, H: 0x2c9 }, '9305000092050000'],
  ['padding_bit_order.dbc', 'MSG2', { I: 1, J: 2, K: 3 }, '2103000000000000'],
  ['multiplex.dbc', 'Message1', { Multiplexor: 8, BIT_C: 1, BIT_G: 1, BIT_J: 1, BIT_L: 1 }, '20008c0100000000'],
  ['multiplex.dbc', 'Message1', { Multiplexor: 24, BIT_A: 1, BIT_B: 1, BIT_C: 1, BIT_D: 1, BIT_E: 1, BIT_F: 1, BIT_G: 1, BIT_H: 1, BIT_J: 1, BIT_K: 1, BIT_L: 1 }, '60008c35c3000000'],
  ['multiplex_2.dbc', 'Extended', { S0: 0, S1: 2, S4: 10000, S6: 1, S7: 33 }, '2010270001210000'],
  ['multiplex_2.dbc', 'Extended', { S0: 0, S1: 0, S2: 100, S3: 5000, S6: 2, S8: 22 }, '0064881302160000'],
];

describe('encode/decode against cantools test vectors', () => {
  for (const [file, name, values, payload] of CANTOOLS_VECTORS) {
    it(`${file} ${name} ${payload}`, () => {
      const db = cantools(file);
      const message = byName(db, name);
      expect(toHex(encodeMessage(message, values))).toBe(payload);
      expect(Object.fromEntries(decodeMessage(db, message, hex(payload)).values)).toEqual(values);
    });
  }

  it('padding_bit_order MSG3/MSG4: 64-bit values beyond 2^53 (cantools: 0x0123456789abcdef)', () => {
    const db = cantools('padding_bit_order.dbc');
    // A double cannot hold 0x0123456789abcdef; the decoder yields the nearest double, which encodes back to
    // the nearest representable payload. The payload bytes from cantools' test decode to that double.
    expect(decodeMessage(db, byName(db, 'MSG3'), hex('0123456789abcdef')).values.get('L')).toBe(Number(0x0123456789abcdefn));
    expect(decodeMessage(db, byName(db, 'MSG4'), hex('efcdab8967452301')).values.get('M')).toBe(Number(0x0123456789abcdefn));
    expect(toHex(encodeMessage(byName(db, 'MSG4'), { M: 2 ** 56 + 2 ** 8 }))).toBe('0001000000000001');
    // All ones decodes to 2^64 (the nearest double); encoding that saturates back to all ones.
    expect(decodeMessage(db, byName(db, 'MSG4'), hex('ffffffffffffffff')).values.get('M')).toBe(2 ** 64);
    expect(toHex(encodeMessage(byName(db, 'MSG4'), { M: 2 ** 64 }))).toBe('ffffffffffffffff');
    expect(() => encodeMessage(byName(db, 'MSG4'), { M: 2 ** 65 })).toThrow(/outside the 64-bit unsigned range/);
  });

  it('motohawk truncated: cantools allow_truncated gives AverageRadius and Enable from 2 bytes', () => {
    const db = cantools('motohawk.dbc');
    const decoded = decodeMessage(db, byName(db, 'ExampleMessage'), hex('00ff'));
    expect(Object.fromEntries(decoded.values)).toEqual({ AverageRadius: 0, Enable: 0 });
  });
});

describe('encodeMessage', () => {
  const vehicle = loadDbcFile(join(import.meta.dirname, '..', 'fixtures', 'dbc', 'vehicle.dbc')).db;

  it('accepts VAL_ labels for values and leaves unused bits 0', () => {
    const gear = byName(vehicle, 'Gear');
    expect([...encodeMessage(gear, { Selected: 'D', Lamp: 'On' })]).toEqual([3, 1]);
    expect([...encodeMessage(gear, { Selected: 2, Lamp: '0' })]).toEqual([2, 0]);
  });

  it('rejects unknown signals, missing values, values that do not fit, unknown labels', () => {
    const gear = byName(vehicle, 'Gear');
    expect(() => encodeMessage(gear, { Selected: 1, Lamp: 0, Nope: 1 })).toThrow(new EncodeError('Gear: no signal named Nope'));
    expect(() => encodeMessage(gear, { Selected: 1 })).toThrow('Gear: missing value for Lamp');
    expect(() => encodeMessage(gear, { Selected: 16, Lamp: 0 })).toThrow('Gear.Selected: 16 needs raw 16, outside the 4-bit unsigned range');
    expect(() => encodeMessage(gear, { Selected: 'Sport', Lamp: 0 })).toThrow("Gear.Selected: 'Sport' is neither a number nor a label of this signal");
    const engine = byName(vehicle, 'Engine29');
    expect(() => encodeMessage(engine, { State: 0, Rpm: -1, Coolant: 0 })).toThrow(/Engine29.Rpm: -1 needs raw -8/);
  });

  it('writes only the multiplexed signals the multiplexer value selects', () => {
    const db = loadDbcFile(join(import.meta.dirname, '..', 'fixtures', 'dbc', 'mux.dbc')).db;
    const ext = byName(db, 'ExtMux');
    expect(toHex(encodeMessage(ext, { Top: 1, Sub: 6, Leaf: 0x42 }))).toBe('6142000000000000');
    expect(toHex(encodeMessage(ext, { Top: 3, Other: 1, Wide: 2 }))).toBe('0301020000000000');
    expect(() => encodeMessage(ext, { Top: 1, Sub: 6 })).toThrow('ExtMux: missing value for Leaf');
  });
});

describe('round trips on every message of real DBCs', () => {
  const files = [
    'dbc/opendbc/hyundai_can.dbc',
    'dbc/opendbc/psa_aee2010_r3.dbc',
    'dbc/opendbc/vw_mqb.dbc',
    'dbc/opendbc/FORD_CADS_64.dbc',
    'dbc/opendbc-generated/hyundai_canfd_generated.dbc',
    'dbc/opendbc/gm_global_a_lowspeed_1818125.dbc',
    'cantools-tests/files/dbc/signed.dbc',
    'cantools-tests/files/dbc/floating_point.dbc',
    'cantools-tests/files/dbc/multiplex_2.dbc',
    'cantools-tests/files/dbc/issue_184_extended_mux_cascaded.dbc',
  ];
  for (const file of files) {
    it(`random payload -> decode -> encode keeps every decoded bit; values -> encode -> decode is exact (${file})`, () => {
      const { db } = loadDbcFile(corpusFile(file));
      const decoder = new Decoder([{ bus: '*', databases: [db] }]);
      const rand = seededRandom(99);
      let signals = 0;
      for (const message of db.messages) {
        for (let round = 0; round < 8; round++) {
          const payload = randomBytes(rand, message.length);
          const decoded = decodeFrame(decoder, { id: message.id, extended: message.extended, data: payload });
          const values = Object.fromEntries(decoded.values);
          if (Object.values(values).some((v) => !Number.isFinite(v))) continue; // NaN payloads have many bit patterns
          if (overlapping(message, Object.keys(values))) continue;
          const encoded = encodeMessage(message, values);
          const exact = decodedBitMask(message, Object.keys(values), true);
          const used = decodedBitMask(message, Object.keys(values), false);
          for (let i = 0; i < message.length; i++) {
            expect(encoded[i] & exact[i], `${message.name} byte ${i}`).toBe(payload[i] & exact[i]);
            expect(encoded[i] & ~used[i], `${message.name} unused bits of byte ${i}`).toBe(0);
          }
          const again = decodeFrame(decoder, { id: message.id, extended: message.extended, data: encoded });
          expect(Object.fromEntries(again.values)).toEqual(values);
          signals += decoded.values.size;
        }
      }
      expect(signals).toBeGreaterThan(0);
    });
  }
});

/** Bits of the decoded signals; `exact`: without integers over 53 bits (a double rounds them: checked separately above). */
function decodedBitMask(message: DbcMessage, names: string[], exact: boolean): Uint8Array {
  const mask = new Uint8Array(message.length);
  for (const s of message.signals) {
    if (!names.includes(s.name) || (exact && s.valueType === 'int' && s.length > 53)) continue;
    for (const pos of bitPositionsMsbFirst(s)) if (pos >> 3 < mask.length) mask[pos >> 3] |= 1 << (pos & 7);
  }
  return mask;
}

/** Signals decoded together that share bits (real DBC mistakes) cannot round-trip: one overwrites the other. */
function overlapping(message: DbcMessage, names: string[]): boolean {
  const seen = new Set<number>();
  for (const s of message.signals) {
    if (!names.includes(s.name)) continue;
    for (const pos of bitPositionsMsbFirst(s)) {
      if (seen.has(pos)) return true;
      seen.add(pos);
    }
  }
  return false;
}
