/**
 * Conformance with cantools 42.0.3 on real logs: decode the corpus candump logs with the real parser
 * and decoder, compare every record with the reference decodes (reference/*.jsonl.gz, made by
 * reference/tools/refdecode.py). Records where cantools raised (`err`) are not truth: counted apart.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder, FrameStatus } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { corpusFile } from '../helpers/corpus.js';

interface Record {
  t: string;
  bus: string;
  id: string;
  ext: boolean;
  msg: string;
  sig?: { [name: string]: number };
  lbl?: { [name: string]: string };
  short?: number;
  err?: string;
}

/**
 * The reference was made with dbc/sanitized-for-cantools copies where the original does not load in
 * cantools; their only signal renames are names starting with a digit (0_COUNTER -> X0_COUNTER).
 */
const referenceName = (name: string) => (/^\d/.test(name) ? `X${name}` : name);

function decodeLog(dbcPath: string, logPath: string): Record[] {
  const { db } = loadDbcFile(dbcPath);
  const decoder = new Decoder([{ bus: '*', databases: [db] }]);
  const samples = createSampleBatch();
  const records: Record[] = [];
  const parser = new CandumpParser(createFrameBatch(512), (frames) => {
    samples.count = 0;
    decoder.decode(frames, samples);
    let k = 0;
    for (let i = 0; i < frames.count; i++) {
      const m = decoder.frameMessage[i];
      if (m < 0) continue;
      const info = decoder.messages[m];
      const t = frames.timeUs[i];
      const record: Record = {
        t: `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}`,
        bus: frames.busNames[frames.bus[i]],
        id: frames.id[i].toString(16).toUpperCase().padStart(parser.idDigits[i], '0'),
        ext: info.extended,
        msg: info.name,
        sig: {},
      };
      for (; k < samples.count && samples.frame[k] === i; k++) {
        const name = referenceName(decoder.signals[samples.signal[k]].name);
        record.sig![name] = samples.value[k];
        const label = decoder.labelOf(samples.signal[k], samples.value[k]);
        if (label !== undefined) (record.lbl ??= {})[name] = label;
      }
      if (decoder.frameStatus[i] & FrameStatus.SHORT) record.short = frames.len[i];
      records.push(record);
    }
  });
  parser.push(readFileSync(logPath));
  parser.end();
  expect(parser.stats.badLines).toBe(0);
  return records;
}

function readReference(rel: string): Record[] {
  return gunzipSync(readFileSync(corpusFile(rel)))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record);
}

const close = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-12 || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

function compare(ours: Record[], reference: Record[]): { compared: number; signals: number; identical: number; cantoolsErrors: Record[]; mismatches: string[] } {
  const mismatches: string[] = [];
  const cantoolsErrors: Record[] = [];
  let signals = 0;
  let identical = 0;
  // One record per known frame, in log order, on both sides.
  expect(ours.length).toBe(reference.length);
  for (let n = 0; n < reference.length; n++) {
    const want = reference[n];
    const got = ours[n];
    const where = `record ${n + 1} (t=${want.t} id=${want.id})`;
    if (got.t !== want.t || got.id !== want.id || got.bus !== want.bus || got.ext !== want.ext || got.msg !== want.msg) {
      mismatches.push(`${where}: frame/message ${JSON.stringify([got.t, got.bus, got.id, got.ext, got.msg])}`);
      continue;
    }
    if (want.err !== undefined) {
      cantoolsErrors.push(want);
      continue;
    }
    if (got.short !== want.short) mismatches.push(`${where}: short ${got.short} vs ${want.short}`);
    const gotNames = Object.keys(got.sig!).sort();
    const wantNames = Object.keys(want.sig!).sort();
    if (gotNames.join() !== wantNames.join()) mismatches.push(`${where}: signals ${gotNames} vs ${wantNames}`);
    for (const name of wantNames) {
      if (!close(got.sig![name], want.sig![name])) mismatches.push(`${where}: ${name} = ${got.sig![name]} vs ${want.sig![name]}`);
      if (got.sig![name] === want.sig![name]) identical++;
      signals++;
    }
    if (JSON.stringify(sortKeys(got.lbl)) !== JSON.stringify(sortKeys(want.lbl))) mismatches.push(`${where}: labels ${JSON.stringify(got.lbl)} vs ${JSON.stringify(want.lbl)}`);
  }
  return { compared: reference.length - cantoolsErrors.length, signals, identical, cantoolsErrors, mismatches };
}

const sortKeys = (o: { [k: string]: string } | undefined) => (o ? Object.fromEntries(Object.entries(o).sort()) : undefined);

describe('conformance with cantools reference decodes of real logs', () => {
  /** Decodes `log` with `dbc`, compares with the reference, prints the counts; returns our records. */
  function checkLog(label: string, dbc: string, log: string, referenceFile: string, expectedRecords: number): Record[] {
    const ours = decodeLog(corpusFile(dbc), corpusFile(log));
    const result = compare(ours, readReference(referenceFile));
    console.log(`${label}: ${result.compared} records and ${result.signals} signal values compared (${result.identical} bit-identical); ${result.cantoolsErrors.length} records where cantools reported err (not compared)`);
    expect(result.mismatches.slice(0, 20)).toEqual([]);
    expect(result.compared).toBe(expectedRecords);
    return ours;
  }

  it('Hyundai Kona turn-on log with hyundai_can.dbc: every record, signal and label', () => {
    const ours = checkLog('kona', 'dbc/opendbc/hyundai_can.dbc', 'logs/eldominio/kona/turnonlog.log', 'reference/kona_turnonlog.hyundai_can.cantools.jsonl.gz', 16535);
    // The README: 1,828 frames (0x356, 0x366) carry 7 bytes where the DBC says 8.
    expect(ours.filter((r) => r.short === 7).map((r) => r.id).filter((v, i, a) => a.indexOf(v) === i).sort()).toEqual(['356', '366']);
    expect(ours.filter((r) => r.short !== undefined)).toHaveLength(1828);
    expect(ours.filter((r) => r.lbl).length).toBeGreaterThan(0);
  });

  it('Toyota Yaris steering log with toyota_iQ_2009_can.dbc', () => {
    checkLog('yaris', 'dbc/opendbc/toyota_iQ_2009_can.dbc', 'logs/eldominio/yaris09/steering.log', 'reference/yaris09_steering.toyota_iQ_2009_can.cantools.jsonl.gz', 1128);
  });

  it('the sanitized Hyundai DBC cantools used has the same messages and signal names as the original', () => {
    const original = loadDbcFile(corpusFile('dbc/opendbc/hyundai_can.dbc')).db;
    const sanitized = loadDbcFile(corpusFile('dbc/sanitized-for-cantools/hyundai_can_generated.cantools.dbc')).db;
    const names = (db: typeof original) => db.messages.map((m) => `${m.name}:${m.signals.map((s) => s.name).join(',')}`);
    expect(names(sanitized)).toEqual(names(original));
  });
});
