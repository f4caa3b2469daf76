/**
 * Rules on a real drive log: the Kona candump log, decoded by the real DBC decoder, through the
 * engine. The expected times and values are computed here straight from the log's bytes with a plain
 * bit extraction (ESP12 = 0x220: LAT_ACCEL is bits 0..10, LONG_ACCEL bits 13..23, little-endian,
 * value = raw * 0.01 - 10.23), not with the decoder or the engine.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../../agent/runtime/agent-config.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { rulesEngineFor, signalMapFor } from '../../agent/rules/engine-from-config.js';
import { createFrameBatch } from '../../drivers/can/frame-batch.js';
import { CandumpParser } from '../../drivers/replay/candump-parser.js';
import { corpusFile } from '../helpers/corpus.js';
import { RuleOutputCollector } from '../helpers/rule-output-collector.js';
import { decodedIngester } from '../helpers/ingest-decoded.js';

const S = 1_000_000;

interface Esp12Frame {
  timeUs: number;
  latRaw: number;
  longRaw: number;
}

/** Every ESP12 frame of the log, read with a regular expression and shifts. */
function esp12Frames(logText: string): Esp12Frame[] {
  const frames: Esp12Frame[] = [];
  for (const match of logText.matchAll(/^\((\d+)\.(\d{6})\) can0 220#([0-9A-F]{16})$/gm)) {
    const b = Buffer.from(match[3], 'hex');
    frames.push({
      timeUs: Number(match[1]) * S + Number(match[2]),
      latRaw: (b[0] | (b[1] << 8)) & 0x7ff,
      longRaw: ((b[1] >> 5) | (b[2] << 3)) & 0x7ff,
    });
  }
  return frames;
}

const physical = (raw: number) => raw * 0.01 - 10.23;

describe('rules on the Kona log (real decoder)', () => {
  const out = new RuleOutputCollector();
  let frames: Esp12Frame[];
  let lastLogTimeUs: number;

  beforeAll(() => {
    const log = corpusFile('logs/eldominio/kona/turnonlog.log');
    const dbc = corpusFile('dbc/opendbc/hyundai_can.dbc');
    const logText = readFileSync(log, 'utf8');
    frames = esp12Frames(logText);
    lastLogTimeUs = Math.max(...[...logText.matchAll(/^\((\d+)\.(\d{6})\)/gm)].map((m) => Number(m[1]) * S + Number(m[2])));

    const config = parseAgentConfig(
      `vehicle: { vin: KMHK381GFKU000001, brand: Hyundai, model: Kona, fuel_type: petrol, model_year: 2019 }
buses:
  - { name: can0, driver: replay, log: ${JSON.stringify(log)}, dbc: [${JSON.stringify(dbc)}] }
signals:
  Vehicle.Acceleration.Lateral: { source: ESP12.LAT_ACCEL, unit: m/s^2 }
  Vehicle.Acceleration.Longitudinal: { source: can0:ESP12.LONG_ACCEL, unit: m/s^2 }
rules:
  - name: lateral_rises
    type: event
    when: "rising(Vehicle.Acceleration.Lateral > -0.03)"
    pre: 1s
    capture: [Vehicle.Acceleration.Lateral]
  - name: longitudinal_peaks
    type: regular
    period: 1s
    signals: [{ signal: Vehicle.Acceleration.Longitudinal, sample: max }, { signal: Vehicle.Acceleration.Longitudinal, sample: min }]
`,
      { baseDir: mkdtempSync(join(tmpdir(), 'roadlink-kona-')) },
    );
    const engine = rulesEngineFor(config, out);
    // One binding per configured bus, with that bus's DBC files (so `can0:` sources resolve).
    const decoder = new Decoder(config.buses.map((bus) => ({ bus: bus.name, databases: bus.dbc.map((file) => loadDbcFile(file).db) })));
    const map = signalMapFor(config, engine, decoder.signals);
    expect(map.unmatched).toEqual([]);
    const samples = createSampleBatch();
    const ingest = decodedIngester(engine, map);
    const parser = new CandumpParser(createFrameBatch(512), (batch) => {
      samples.count = 0;
      decoder.decode(batch, samples);
      ingest(samples);
    });
    parser.push(readFileSync(log));
    parser.end();
    engine.advanceTo(lastLogTimeUs + S);
    engine.finish();
  });

  it('fires the rising-edge rule exactly at the frames where the log value rises past the threshold', () => {
    expect(frames.length).toBe(914);
    // -0.03 m/s² is raw 1020 (raw > 1020 ⇔ value > -0.03); an edge needs a previous frame.
    const expected = frames.filter((f, i) => i > 0 && f.latRaw > 1020 && frames[i - 1].latRaw <= 1020).map((f) => f.timeUs);
    expect(expected.length).toBe(37);
    const fired = out.eventsOf('lateral_rises');
    expect(fired.map((e) => e.timeUs)).toEqual(expected);
    expect(fired.every((e) => Math.abs(e.values['Vehicle.Acceleration.Lateral'] - physical(frames.find((f) => f.timeUs === e.timeUs)!.latRaw)) < 1e-9)).toBe(true);
  });

  it('captures the last second of the signal before each trigger', () => {
    const first = out.eventsOf('lateral_rises')[0];
    const inWindow = frames.filter((f) => f.timeUs >= first.timeUs - S && f.timeUs <= first.timeUs);
    expect(inWindow.length).toBeGreaterThan(10);
    expect([...first.window!.timeUs[0]]).toEqual(inWindow.map((f) => f.timeUs));
    const values = [...first.window!.value[0]];
    inWindow.forEach((f, i) => expect(values[i]).toBeCloseTo(physical(f.latRaw), 9));
  });

  it('reports the per-second max and min of a real signal at second boundaries', () => {
    const byPeriod = new Map<number, number[]>();
    for (const f of frames) {
      const boundary = (Math.floor(f.timeUs / S) + 1) * S;
      byPeriod.set(boundary, [...(byPeriod.get(boundary) ?? []), f.longRaw]);
    }
    const got = out.samplesOf('longitudinal_peaks');
    expect(got.length).toBe(2 * byPeriod.size);
    let k = 0;
    for (const [boundary, raws] of byPeriod) {
      expect(got[k].timeUs).toBe(boundary);
      expect(got[k].value).toBeCloseTo(physical(Math.max(...raws)), 9);
      expect(got[k + 1].value).toBeCloseTo(physical(Math.min(...raws)), 9);
      k += 2;
    }
  });
});
