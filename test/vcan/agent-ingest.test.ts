// Ingest over real SocketCAN: canplayer plays the start of the real Kona log onto vcan0 while the
// agent (socketcan bus, Hyundai DBC, catalog, a regular rule and change events) runs; the same
// configuration then runs with a replay bus on the same log. What reaches the store must be the same
// on both paths, and the same as cantools' reference decode of those frames. Kernel and replay
// timings differ, so the comparison is on what does not depend on timing (signal-trace.ts): every
// change of each signal in order, and each signal's smallest and largest stored value.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/runtime/agent.js';
import { corpusFile } from '../helpers/corpus.js';
import { canplayer, dbcIds, interfaceReport, KONA, logFrames, socketCanDriverOf, startAgent, tempDir, trimLog, until } from './agent-harness.js';
import { cantoolsTraces, expectTracesClose, finishAndTrace, traceRulesYaml } from './signal-trace.js';
import { requireVcan } from './vcan-env.js';

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
const NAMES = SOURCES.map((s) => `Kona.${s}`);

function konaYaml(bus: string, database: string): string {
  return `
vehicle: { vin: KMHK381GFKU000001, brand: Hyundai, model: Kona, fuel_type: petrol, model_year: 2020 }
buses:
  - ${bus}
signals:
${SOURCES.map((s, i) => `  ${NAMES[i]}: ${s}`).join('\n')}
${traceRulesYaml(NAMES)}
storage: { path: ${JSON.stringify(database)} }
`;
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

beforeAll(() => requireVcan('vcan0'));

describe('the agent on vcan0: a real log played by canplayer', () => {
  it('stores the same values as the replay driver gives for the same log, and as cantools decodes them', async () => {
    const dir = tempDir('ingest');
    const log = trimLog(corpusFile(KONA.log), LOG_LINES, dir);
    const dbc = corpusFile(KONA.dbc);
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
    await until('every known frame of the log', () => driver.stats().framesIn >= knownFrames, 60_000, () => `${knownFrames} expected; ${interfaceReport(driver)}`);
    expect(driver.stats().framesIn).toBe(knownFrames);
    expect(live.agent.decoder.stats.unknownId).toBe(0); // the kernel filters kept the rest out
    const liveStats = live.agent.stats();
    const viaSocketCan = await finishAndTrace(live.agent, NAMES);

    // 2. The same configuration with a replay bus on the same log, as fast as possible.
    const replay = await startAgent(konaYaml(`{ name: kona, driver: replay, log: ${JSON.stringify(log)}, speed: 0, dbc: [${JSON.stringify(dbc)}] }`, `${dir}/replay.db`), dir, {
      replayTimestamps: 'log',
    });
    agents.push(replay.agent);
    await replay.agent.replaysEnded;
    expect(replay.agent.decoder.stats).toMatchObject({ frames: frames.length, decoded: knownFrames, unknownId: frames.length - knownFrames });
    const replayStats = replay.agent.stats();
    const viaReplay = await finishAndTrace(replay.agent, NAMES);

    // Every decoded sample arrived over SocketCAN, and the store holds the same values.
    expect(liveStats.decodedSamples).toBe(replayStats.decodedSamples);
    expect(liveStats.vehicleSamples).toBe(replayStats.vehicleSamples);
    expect(viaSocketCan).toEqual(viaReplay);

    // And both are what cantools decodes from these frames (an independent decoder).
    const expected = cantoolsTraces(corpusFile(KONA.reference), new Map(SOURCES.map((s, i) => [s, NAMES[i]])), frames.at(-1)!.time);
    for (const name of NAMES) expect(expected.get(name)!.changes.length, `${name} changes in the log`).toBeGreaterThan(0);
    expectTracesClose(viaSocketCan, expected);

    const changes = [...viaSocketCan.values()].reduce((n, t) => n + t.changes.length, 0);
    console.log(`agent-ingest: ${frames.length} log lines (${knownFrames} known frames) played in ${playedMs} ms; ${liveStats.decodedSamples} decoded samples, ${changes} change events`);
  });
});
