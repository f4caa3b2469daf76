// Ingest over real SocketCAN: canplayer plays the start of the real Kona log onto vcan0 while the
// agent (socketcan bus, Hyundai DBC, catalog, a regular rule and change events) runs; the same
// configuration then runs with a replay bus on the same log. What reaches the store must be the same
// on both paths, and the same as cantools' reference decode of those frames. Kernel and replay
// timings differ, so the comparison is on what does not depend on timing: every change of each
// signal in order (event records), and each signal's smallest and largest value (regular samples).
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/runtime/agent.js';
import { corpusFile } from '../helpers/corpus.js';
import { canplayer, dbcIds, logFrames, socketCanDriverOf, startAgent, storedContent, tempDir, trimLog, until, type StoredContent } from './agent-harness.js';
import { requireVcan } from './vcan-env.js';

const KONA_LOG = 'logs/eldominio/kona/turnonlog.log';
const KONA_DBC = 'dbc/opendbc/hyundai_can.dbc';
const KONA_REFERENCE = 'reference/kona_turnonlog.hyundai_can.cantools.jsonl.gz';
/** About 4.3 s of the 9 s log at its recorded pace (~1,900 frames/s). */
const LOG_LINES = 8000;
/**
 * Signals of slow and fast messages, unsigned and signed, Intel and Motorola, with factors, and two
 * from 0x356/0x366, whose frames carry 7 bytes where the DBC says 8 (short frames).
 */
const SOURCES = [
  'CGW1.CF_Gway_IGNSw', 'EMS16.ENG_STAT', 'EMS16.TQI', 'EMS_366.N', 'M_356.PAINT3', 'EMS12.TPS',
  'ESP12.LAT_ACCEL', 'EMS19.CR_Ems_BstPre', 'YRS12.YRS_Temp', 'SAS11.SAS_Angle', 'MDPS11.CR_Mdps_DrvTq',
];
const nameOf = (source: string) => `Kona.${source}`;

function konaYaml(bus: string, database: string): string {
  return `
vehicle: { vin: KMHK381GFKU000001, brand: Hyundai, model: Kona, fuel_type: petrol, model_year: 2020 }
buses:
  - ${bus}
signals:
${SOURCES.map((s) => `  ${nameOf(s)}: ${s}`).join('\n')}
rules:
  - name: extremes
    type: regular
    period: 1s
    signals:
${SOURCES.map((s) => `      - { signal: ${nameOf(s)}, sample: min }\n      - { signal: ${nameOf(s)}, sample: max }`).join('\n')}
${SOURCES.map((s, i) => `  - { name: change_${i}, type: event, when: "changed(${nameOf(s)})" }`).join('\n')}
storage: { path: ${JSON.stringify(database)} }
`;
}

interface Observed {
  /** Per vehicle signal: its values at each change, in order (the first value is the baseline). */
  changes: Map<string, number[]>;
  /** Per vehicle signal: smallest and largest value the regular rule stored. */
  extremes: Map<string, [number, number]>;
  decodedSamples: number;
  vehicleSamples: number;
}

function observe(agent: Agent, content: StoredContent): Observed {
  const changes = new Map<string, number[]>(SOURCES.map((s) => [nameOf(s), []]));
  for (const event of content.events) {
    const name = nameOf(SOURCES[Number(event.rule.replace('change_', ''))]);
    changes.get(name)!.push(event.values[name]);
  }
  const extremes = new Map<string, [number, number]>();
  for (const [name, values] of content.samples) extremes.set(name, [Math.min(...values), Math.max(...values)]);
  const stats = agent.stats();
  return { changes, extremes, decodedSamples: stats.decodedSamples, vehicleSamples: stats.vehicleSamples };
}

/** Closes the regular rule's last period (one period past the last sample), commits, reads the store, stops. */
async function finishAndRead(agent: Agent): Promise<Observed> {
  agent.engine.advanceTo(agent.engine.nowUs + 1_000_001);
  await agent.drained();
  const observed = observe(agent, storedContent(agent));
  await agent.stop();
  return observed;
}

/** The same from cantools' decode of the log (JSON Lines, in log order) up to `lastTime`. */
function reference(lastTime: string): { changes: Map<string, number[]>; extremes: Map<string, [number, number]> } {
  const last = new Map<string, number>();
  const changes = new Map<string, number[]>(SOURCES.map((s) => [nameOf(s), []]));
  const extremes = new Map<string, [number, number]>();
  const wanted = new Map(SOURCES.map((s) => [s, nameOf(s)]));
  for (const line of gunzipSync(readFileSync(corpusFile(KONA_REFERENCE))).toString().split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as { t: string; msg: string; sig: Record<string, number>; err?: string };
    if (Number(record.t) > Number(lastTime)) break;
    if (record.err) throw new Error(`cantools could not decode ${record.msg} at ${record.t}: ${record.err}`);
    for (const [signal, value] of Object.entries(record.sig)) {
      const name = wanted.get(`${record.msg}.${signal}`);
      if (!name) continue;
      const previous = last.get(name);
      if (previous !== undefined && previous !== value) changes.get(name)!.push(value);
      last.set(name, value);
      const [lo, hi] = extremes.get(name) ?? [Infinity, -Infinity];
      extremes.set(name, [Math.min(lo, value), Math.max(hi, value)]);
    }
  }
  return { changes, extremes };
}

/** cantools prints doubles such as -0.08000000000000007: equal within 1e-9 of the magnitude. */
function expectClose(actual: number[], expected: number[], what: string): void {
  expect(actual.length, `${what}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `${what}[${i}]: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected[i]))));
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

beforeAll(() => requireVcan('vcan0'));

describe('the agent on vcan0: a real log played by canplayer', () => {
  it('stores the same values as the replay driver gives for the same log, and as cantools decodes them', async () => {
    const dir = tempDir('ingest');
    const log = trimLog(corpusFile(KONA_LOG), LOG_LINES, dir);
    const dbc = corpusFile(KONA_DBC);
    const frames = logFrames(log);
    const known = dbcIds(dbc);
    const knownFrames = frames.filter((f) => known.has(f.id)).length;
    expect(frames.length - knownFrames).toBeGreaterThan(0); // the log has IDs the DBC does not define

    // 1. SocketCAN: the agent listens on vcan0, canplayer plays the log at its recorded pace.
    const live = await startAgent(konaYaml(`{ name: kona, driver: socketcan, interface: vcan0, dbc: [${JSON.stringify(dbc)}] }`, `${dir}/live.db`), dir);
    agents.push(live.agent);
    const driver = socketCanDriverOf(live.agent, 'kona');
    const started = Date.now();
    await canplayer(log, 'vcan0=can0');
    const playedMs = Date.now() - started;
    await until('every known frame of the log', () => driver.stats().framesIn >= knownFrames, 60_000, () => `${driver.stats().framesIn} of ${knownFrames}`);
    expect(driver.stats().framesIn).toBe(knownFrames);
    expect(live.agent.decoder.stats.unknownId).toBe(0); // the kernel filters kept the rest out
    const viaSocketCan = await finishAndRead(live.agent);

    // 2. The same configuration with a replay bus on the same log, as fast as possible.
    const replay = await startAgent(konaYaml(`{ name: kona, driver: replay, log: ${JSON.stringify(log)}, speed: 0, dbc: [${JSON.stringify(dbc)}] }`, `${dir}/replay.db`), dir, {
      replayTimestamps: 'log',
    });
    agents.push(replay.agent);
    await replay.agent.replaysEnded;
    expect(replay.agent.decoder.stats).toMatchObject({ frames: frames.length, decoded: knownFrames, unknownId: frames.length - knownFrames });
    const viaReplay = await finishAndRead(replay.agent);

    // Every decoded sample arrived over SocketCAN, and the store holds the same values.
    expect(viaSocketCan.decodedSamples).toBe(viaReplay.decodedSamples);
    expect(viaSocketCan.vehicleSamples).toBe(viaReplay.vehicleSamples);
    expect(viaSocketCan.changes).toEqual(viaReplay.changes);
    expect(viaSocketCan.extremes).toEqual(viaReplay.extremes);

    // And both are what cantools decodes from these frames (an independent decoder).
    const expected = reference(frames.at(-1)!.time);
    for (const source of SOURCES) {
      const name = nameOf(source);
      expect(expected.changes.get(name)!.length, `${name} changes in the log`).toBeGreaterThan(0);
      expectClose(viaSocketCan.changes.get(name)!, expected.changes.get(name)!, `${name} changes`);
      expectClose(viaSocketCan.extremes.get(name)!, expected.extremes.get(name)!, `${name} min/max`);
    }
    const changeCount = [...viaSocketCan.changes.values()].reduce((n, c) => n + c.length, 0);
    console.log(`agent-ingest: ${frames.length} log lines (${knownFrames} known frames) played in ${playedMs} ms; ${viaSocketCan.decodedSamples} decoded samples, ${changeCount} change events`);
  });
});
