import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DbcError, loadDbcFile, parseDbc, type DbcWarning } from '../../agent/decode/dbc-loader.js';
import { CORPUS_DIR, corpusFile } from '../helpers/corpus.js';
import { seededRandom } from './decode-one.js';

const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', 'dbc', name);

function message(db: ReturnType<typeof loadDbcFile>['db'], name: string) {
  const m = db.messages.find((x) => x.name === name);
  if (!m) throw new Error(`no message ${name}`);
  return m;
}

function signal(db: ReturnType<typeof loadDbcFile>['db'], messageName: string, name: string) {
  const s = message(db, messageName).signals.find((x) => x.name === name);
  if (!s) throw new Error(`no signal ${messageName}.${name}`);
  return s;
}

/** Warnings as "line: reason" for readable assertions. */
const lines = (warnings: DbcWarning[]) => warnings.map((w) => `${w.line}: ${w.reason}`);

function dbcFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...dbcFilesUnder(path));
    else if (/\.dbc$/i.test(name)) out.push(path);
  }
  return out.sort();
}

describe('DBC loader: what the statements say', () => {
  it('reads signal layout, scaling, range, unit and receivers', () => {
    const { db, warnings } = loadDbcFile(fixture('layout.dbc'));
    expect(warnings).toEqual([]);
    expect(db.version).toBe('layout fixture');
    expect(db.nodes).toEqual(['ECU', 'TOOL']);
    const moto = signal(db, 'Layout', 'MotoSigned');
    expect(moto).toMatchObject({ startBit: 23, length: 10, byteOrder: 'big_endian', signed: true, factor: 0.5, offset: -10, min: -266, max: 245.5, unit: 'deg', receivers: ['TOOL'] });
    expect(signal(db, 'Layout', 'IntelCross')).toMatchObject({ byteOrder: 'little_endian', signed: false, receivers: ['TOOL', 'ECU'] });
    expect(signal(db, 'Floats', 'F32Moto').valueType).toBe('float32');
    expect(signal(db, 'Floats', 'F64Intel').valueType).toBe('float64');
    expect(signal(db, 'Big64', 'U64').min).toBeUndefined(); // [0|0] = no range
  });

  it('reads 29-bit IDs, CAN FD, attributes, comments (multi-line), VAL_ and VAL_TABLE_', () => {
    const { db, warnings } = loadDbcFile(fixture('vehicle.dbc'));
    expect(warnings).toEqual([]);
    const engine = message(db, 'Engine29');
    expect(engine).toMatchObject({ id: 0x18fef1fe, extended: true, fd: false, length: 8, cycleTimeMs: 100, senders: ['ECU'] });
    expect(engine.comment).toBe('Engine data,\nsecond line of the comment');
    expect(signal(db, 'Engine29', 'Rpm').comment).toBe('Engine speed');
    expect([...signal(db, 'Engine29', 'State').labels!]).toEqual([[0, 'Off'], [1, 'Cranking'], [2, 'Running'], [3, 'Fault']]);
    const fd = message(db, 'FdWide');
    expect(fd).toMatchObject({ id: 0x200, extended: true, fd: true, length: 64, cycleTimeMs: undefined });
    expect(fd.attributes.get('VFrameFormat')).toBe('ExtendedCAN_FD');
    expect(message(db, 'Gear')).toMatchObject({ id: 0x600, extended: false, fd: false, cycleTimeMs: 500 });
    expect(db.valueTables.get('OnOff')).toEqual(new Map([[1, 'On'], [0, 'Off']]));
    expect(db.attributeDefinitions.get('BusType')?.defaultValue).toBe('CAN FD');
    expect(db.comment).toBe('Network comment');
    expect(db.nodeComments.get('ECU')).toBe('The engine controller');
  });

  it('reads simple and extended (cascaded) multiplexing', () => {
    const { db, warnings } = loadDbcFile(fixture('mux.dbc'));
    expect(warnings).toEqual([]);
    expect(signal(db, 'Mux', 'Kind')).toMatchObject({ isMultiplexer: true, multiplexerSignal: undefined });
    expect(signal(db, 'Mux', 'B')).toMatchObject({ multiplexerSignal: 'Kind', multiplexerRanges: [[2, 2]] });
    expect(signal(db, 'Mux', 'Always').multiplexerSignal).toBeUndefined();
    expect(signal(db, 'ExtMux', 'Sub')).toMatchObject({ isMultiplexer: true, multiplexerSignal: 'Top', multiplexerRanges: [[1, 1]] });
    expect(signal(db, 'ExtMux', 'Leaf')).toMatchObject({ multiplexerSignal: 'Sub', multiplexerRanges: [[0, 0], [5, 7]] });
    expect(signal(db, 'ExtMux', 'Wide').multiplexerRanges).toEqual([[3, 3], [10, 12]]);
  });

  it('decodes cp1252 files (not valid UTF-8) as cp1252', () => {
    const { db, warnings } = loadDbcFile(fixture('cp1252.dbc'));
    expect(warnings).toEqual([]);
    expect(signal(db, 'Climate', 'Temp').unit).toBe('°C');
    expect(signal(db, 'Climate', 'Temp').comment).toBe('Température intérieure – capteur « habitacle »');
    expect(signal(db, 'Climate', 'Flap').labels?.get(2)).toBe('Dégivrage');
  });

  it('reads the cantools cp1252 fixture: every printable cp1252 character of the node comment', () => {
    const { db } = loadDbcFile(corpusFile('cantools-tests/files/dbc/cp1252.dbc'));
    // cantools' own test: bytes 32..255 without '"' and the 5 codes cp1252 leaves undefined.
    const ascii = Array.from({ length: 96 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== '"').join('');
    const cp1252Only = '\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178';
    const latin1 = Array.from({ length: 96 }, (_, i) => String.fromCharCode(0xa0 + i)).join('');
    expect(db.nodeComments.get('Node1')).toBe(ascii + cp1252Only + latin1);
  });

  it('uses the long names of SystemSignalLongSymbol / SystemMessageLongSymbol', () => {
    const { db } = loadDbcFile(corpusFile('cantools-tests/files/dbc/long_names.dbc'));
    // Names from cantools' test_long_names_dbc.
    expect(db.messages.map((m) => m.name).slice(0, 6)).toEqual([
      'SS12345678901234567890123458789012345',
      'SS1234567890123456789012345778901',
      'SS1234567890123456789012345878901234',
      'SS123456789012345678901234577890',
      'SS12345678901234567890123456789012',
      'S12345678901234567890123456789012',
    ]);
  });
});

describe('DBC loader: lenient with broken files', () => {
  it('turns each problem of a broken file into a warning with its line, and loads the rest', () => {
    const { db, warnings } = loadDbcFile(fixture('broken.dbc'));
    expect(warnings.every((w) => w.file === fixture('broken.dbc'))).toBe(true);
    expect(lines(warnings)).toEqual([
      "7: SG_: expected the signal length (a number), found 'x'",
      '10: message TooBig: standard ID 0xBB8 exceeds 0x7FF without the extended flag (bit 31); read as a 29-bit ID',
      "11: signal name '1Digit' starts with a digit",
      '12: signals 1Digit and Overlap of message TooBig (0xBB8) overlap in byte 0',
      '14: malformed CM_: object type (BO_/SG_/BU_/EV_) missing before 100; read as a comment on message 100',
      "15: malformed CM_: missing ';'",
      "18: unexpected 'garbage': not a DBC statement",
      "19: VAL_: expected a value label (a quoted string), found ';'",
      '21: SG_MUL_VAL_ ignored: signal After of message Good is not marked as multiplexed (mN)',
    ]);
    // What could be read is there: the signal after the broken one, the message after the broken comment.
    expect(message(db, 'Good').signals.map((s) => s.name)).toEqual(['Ok', 'After']);
    expect(message(db, 'Good').comment).toBe('missing semicolon');
    expect(message(db, 'TooBig')).toMatchObject({ id: 3000, extended: true });
    expect(message(db, 'AfterComment').signals.map((s) => s.name)).toEqual(['X']);
    expect(signal(db, 'Good', 'After').labels?.get(1)).toBe('one');
  });

  it('throws one DbcError naming the file for a missing file, an empty file, garbage bytes, binary data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-dbc-'));
    expect(() => loadDbcFile(join(dir, 'absent.dbc'))).toThrow(DbcError);
    expect(() => loadDbcFile(join(dir, 'absent.dbc'))).toThrow(`${join(dir, 'absent.dbc')}: cannot read DBC file: no such file`);
    expect(() => loadDbcFile(dir)).toThrow(/is a directory/);

    writeFileSync(join(dir, 'empty.dbc'), ' \n\n');
    expect(() => loadDbcFile(join(dir, 'empty.dbc'))).toThrow(`${join(dir, 'empty.dbc')}: empty file: no DBC statements`);

    writeFileSync(join(dir, 'text.dbc'), 'hello world\nthis is not a DBC\n');
    let error: unknown;
    try {
      loadDbcFile(join(dir, 'text.dbc'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DbcError);
    expect(error).toMatchObject({ file: join(dir, 'text.dbc'), line: 1, reason: "not a DBC file: unexpected 'hello': not a DBC statement" });
    expect((error as Error).message).toBe(`${join(dir, 'text.dbc')}:1: not a DBC file: unexpected 'hello': not a DBC statement`);

    writeFileSync(join(dir, 'binary.dbc'), Buffer.from([0x42, 0x4f, 0x5f, 0x0a, 0x00, 0x01, 0xff]));
    expect(() => loadDbcFile(join(dir, 'binary.dbc'))).toThrow(`${join(dir, 'binary.dbc')}:2: binary data (NUL byte): not a DBC text file`);
  });

  it('never throws anything but DbcError on random bytes and random mutations of a real DBC', () => {
    const rand = seededRandom(12345);
    const real = loadDbcFile(fixture('vehicle.dbc'));
    expect(real.db.messages).toHaveLength(3);
    const text = readFileSync(fixture('vehicle.dbc'), 'utf8');
    let loaded = 0;
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      let input: string;
      if (round % 3 === 0) {
        input = Array.from({ length: 200 }, () => String.fromCharCode(1 + Math.floor(rand() * 255))).join('');
      } else {
        // Cut, duplicate or overwrite random spans of a valid file.
        const chars = [...text];
        for (let k = 0; k < 5; k++) {
          const at = Math.floor(rand() * chars.length);
          const len = Math.floor(rand() * 20);
          if (rand() < 0.5) chars.splice(at, len);
          else chars.splice(at, 0, ...'";:|@()[]-+ \nBO_SG_CM_VAL_'.slice(Math.floor(rand() * 20)).split(''));
        }
        input = chars.join('');
      }
      try {
        const { warnings } = parseDbc(input, 'mutated.dbc');
        for (const w of warnings) expect(w.line).toBeGreaterThan(0);
        loaded++;
      } catch (e) {
        expect(e).toBeInstanceOf(DbcError);
        refused++;
      }
    }
    expect(loaded + refused).toBe(300);
    expect(loaded).toBeGreaterThan(100); // mutated real files still load (with warnings)
  });
});

describe('DBC loader on the corpus', () => {
  it('loads every DBC of the corpus (opendbc, quirks, generated, sanitized, cantools fixtures)', () => {
    const files = [...dbcFilesUnder(join(CORPUS_DIR, 'dbc')), ...dbcFilesUnder(join(CORPUS_DIR, 'cantools-tests', 'files', 'dbc'))];
    expect(files.length).toBeGreaterThanOrEqual(95);
    const failures: string[] = [];
    for (const file of files) {
      try {
        loadDbcFile(file);
      } catch (e) {
        failures.push(`${file}: ${(e as Error).message}`);
      }
    }
    // No corpus DBC has to be refused.
    expect(failures).toEqual([]);
  });

  it('reads the real DBCs with the sizes the corpus README gives', () => {
    const psa = loadDbcFile(corpusFile('dbc/opendbc/psa_aee2010_r3.dbc'));
    expect(psa.db.messages).toHaveLength(107);
    const psaSignals = psa.db.messages.flatMap((m) => m.signals);
    expect(psaSignals).toHaveLength(430);
    expect(psaSignals.filter((s) => s.byteOrder === 'big_endian')).toHaveLength(231);
    expect(psaSignals.filter((s) => s.signed)).toHaveLength(16);
    expect(psaSignals.filter((s) => s.labels)).toHaveLength(57);
    expect(psa.db.messages.some((m) => m.name === 'VECTOR__INDEPENDENT_SIG_MSG')).toBe(false);
    expect(lines(psa.warnings)).toContain('262: signals P052_Com_aLng and ACCEL_LONGI_ROUES of message HS2_DYN_ABR_38D (0x38D) overlap in byte 4');
    expect(lines(psa.warnings)).toContain("165: signal name '0_COUNTER' starts with a digit");

    const gm = loadDbcFile(corpusFile('dbc/opendbc/gm_global_a_lowspeed_1818125.dbc')).db;
    expect(gm.messages.filter((m) => m.extended).length).toBeGreaterThanOrEqual(365);
    const ford = loadDbcFile(corpusFile('dbc/opendbc/FORD_CADS_64.dbc')).db;
    expect(ford.messages.some((m) => m.length === 64)).toBe(true);
    const fd = loadDbcFile(corpusFile('dbc/opendbc-generated/hyundai_canfd_generated.dbc')).db;
    expect(fd.messages.filter((m) => m.length > 8)).toHaveLength(75);
    const vw = loadDbcFile(corpusFile('dbc/opendbc/vw_mqb.dbc')).db;
    expect(vw.messages.some((m) => m.signals.some((s) => s.multiplexerSignal))).toBe(true);
  });

  it('loads the quirky opendbc files with the expected warnings (file:line)', () => {
    const expectWarning = (rel: string, line: number, reason: RegExp) => {
      const { warnings } = loadDbcFile(corpusFile(`dbc/opendbc-quirks/${rel}`));
      const hit = warnings.find((w) => w.line === line && reason.test(w.reason));
      expect(hit, `${rel}:${line} ${reason} in\n${lines(warnings).join('\n')}`).toBeDefined();
      expect(hit!.file).toBe(corpusFile(`dbc/opendbc-quirks/${rel}`));
    };
    expectWarning('chrysler_cusw.dbc', 182, /standard ID 0x62CC033 exceeds 0x7FF without the extended flag/);
    expectWarning('gm_global_a_lowspeed.dbc', 45, /standard ID 0x10630000 exceeds 0x7FF/);
    expectWarning('mazda_2017.dbc', 273, /message name '2017_5' starts with a digit/);
    expectWarning('mazda_2017.dbc', 572, /signal name '5_SEC_DISABLE_TIMER' starts with a digit/);
    expectWarning('toyota_radar_dsu_tssp.dbc', 138, /malformed CM_: missing ';'/);
    const hyundai = loadDbcFile(corpusFile('dbc/opendbc/hyundai_can.dbc'));
    expect(lines(hyundai.warnings)).toEqual([
      '1656: malformed CM_: object type (BO_/SG_/BU_/EV_) missing before 145; read as a comment on message 145',
      '1657: malformed CM_: object type (BO_/SG_/BU_/EV_) missing before 512; read as a comment on message 512',
    ]);
    // The 29-bit reading of an over-long standard ID is usable for decoding.
    const gm = loadDbcFile(corpusFile('dbc/opendbc-quirks/gm_global_a_lowspeed.dbc')).db;
    expect(gm.messages.find((m) => m.name === 'DriverDoorStatus')).toMatchObject({ id: 0x10630000, extended: true });
  });
});
