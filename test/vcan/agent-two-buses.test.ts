// Two buses at once: the Kona log plays on vcan0 (Hyundai DBC) while the Yaris log plays on vcan1
// (Toyota DBC), both through one agent. Each bus's frames must be decoded with its own DBC only.
// The logs make that checkable: both carry 0x260, which each DBC defines as a different message,
// and the Yaris log carries 0x380, 0x38A and 0x394, which the Hyundai DBC defines (0x394 only there).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/runtime/agent.js';
import { corpusFile } from '../helpers/corpus.js';
import { canplayer, dbcIds, interfaceReport, KONA, logFrames, socketCanDriverOf, startAgent, tempDir, trimLog, until, YARIS } from './agent-harness.js';
import { cantoolsTraces, expectTracesClose, finishAndTrace, traceRulesYaml } from './signal-trace.js';
import { requireVcan } from './vcan-env.js';

/** About 4 s and 5 s of the two logs at their recorded pace. */
const KONA_LINES = 7500;
const YARIS_LINES = 900;

/** Catalog name → source; `kona:` / `yaris:` name the bus, the last three take any bus. */
const CATALOG: Record<string, string> = {
  'Kona.EMS16.TQI': 'kona:EMS16.TQI', // 0x260 on the Kona
  'Kona.EMS_366.N': 'kona:EMS_366.N',
  'Kona.SAS11.SAS_Angle': 'kona:SAS11.SAS_Angle',
  'Yaris.NEW_MSG_6.VERY_SMALL_SIGNAL2': 'yaris:NEW_MSG_6.VERY_SMALL_SIGNAL2', // 0x260 on the Yaris
  'Yaris.COMMAND.ACC_PEDAL_MEAN': 'yaris:COMMAND.ACC_PEDAL_MEAN',
  'Yaris.STEER2_MAYBE.NEW_SIGNAL_2': 'yaris:STEER2_MAYBE.NEW_SIGNAL_2',
  'Yaris.LOW_RES_INDICATORS.LOW_RES_RPM': 'yaris:LOW_RES_INDICATORS.LOW_RES_RPM',
  'Yaris.LONG_TERM_2.NEW_SIGNAL_1': 'yaris:LONG_TERM_2.NEW_SIGNAL_1', // 0x380
  // Hyundai messages whose IDs only the Yaris log carries: they must never get a value.
  'Kona.TCS13.aBasis': 'TCS13.aBasis', // 0x394
  'Kona.DI_BOX13.CF_DiBox_HPreInjVStat1': 'DI_BOX13.CF_DiBox_HPreInjVStat1', // 0x380
  'Kona.ABS11.ABS_DEF': 'ABS11.ABS_DEF', // 0x38A
};
const NAMES = Object.keys(CATALOG);

/** "Message.Signal" → catalog name, for the catalog entries of one vehicle. */
function sourcesOf(prefix: string): Map<string, string> {
  return new Map(NAMES.filter((n) => n.startsWith(prefix)).map((n) => [CATALOG[n].replace(/^\w+:/, ''), n]));
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

beforeAll(() => {
  requireVcan('vcan0');
  requireVcan('vcan1');
});

describe('the agent on vcan0 and vcan1 at once', () => {
  it('decodes each bus with its own DBC only', async () => {
    const dir = tempDir('two-buses');
    const kona = { log: trimLog(corpusFile(KONA.log), KONA_LINES, dir), dbc: corpusFile(KONA.dbc) };
    const yaris = { log: trimLog(corpusFile(YARIS.log), YARIS_LINES, dir), dbc: corpusFile(YARIS.dbc) };
    const konaFrames = logFrames(kona.log);
    const yarisFrames = logFrames(yaris.log);
    const konaIds = dbcIds(kona.dbc);
    const yarisIds = dbcIds(yaris.dbc);
    // The overlaps this test relies on.
    expect(konaFrames.some((f) => f.id === '260') && yarisFrames.some((f) => f.id === '260')).toBe(true);
    expect(konaIds.has('260') && yarisIds.has('260')).toBe(true);
    expect(yarisFrames.filter((f) => f.id === '394').length).toBeGreaterThan(0);
    expect(konaIds.has('394') && !yarisIds.has('394')).toBe(true);

    const { agent } = await startAgent(
      `
vehicle: { vin: KMHK381GFKU000001, brand: Hyundai, model: Kona, fuel_type: petrol, model_year: 2020 }
buses:
  - { name: kona, driver: socketcan, interface: vcan0, dbc: [${JSON.stringify(kona.dbc)}] }
  - { name: yaris, driver: socketcan, interface: vcan1, dbc: [${JSON.stringify(yaris.dbc)}] }
signals:
${NAMES.map((n) => `  ${n}: ${CATALOG[n]}`).join('\n')}
${traceRulesYaml(NAMES)}
storage: { path: ${JSON.stringify(`${dir}/two-buses.db`)} }
`,
      dir,
    );
    agents.push(agent);
    const driver = socketCanDriverOf(agent, 'kona');
    expect(socketCanDriverOf(agent, 'yaris')).toBe(driver); // one driver, two interfaces

    await Promise.all([canplayer(kona.log, 'vcan0=can0'), canplayer(yaris.log, 'vcan1=can0')]);
    const expectedIn = [konaFrames.filter((f) => konaIds.has(f.id)).length, yarisFrames.filter((f) => yarisIds.has(f.id)).length];
    const framesIn = () => driver.interfaceStatus().map((s) => s.framesIn);
    await until('every known frame of both logs', () => framesIn()[0] >= expectedIn[0] && framesIn()[1] >= expectedIn[1], 60_000, () => `${expectedIn} expected; ${interfaceReport(driver)}`);
    expect(driver.interfaceStatus().map((s) => [s.iface, s.bus, s.framesIn, s.exactFilters])).toEqual([
      ['vcan0', 'kona', expectedIn[0], true],
      ['vcan1', 'yaris', expectedIn[1], true],
    ]);
    expect(agent.decoder.stats.unknownId).toBe(0);

    const traces = await finishAndTrace(agent, NAMES);
    const expected = new Map([
      ...cantoolsTraces(corpusFile(KONA.reference), sourcesOf('Kona.'), konaFrames.at(-1)!.time),
      ...cantoolsTraces(corpusFile(YARIS.reference), sourcesOf('Yaris.'), yarisFrames.at(-1)!.time),
    ]);
    for (const name of ['Kona.TCS13.aBasis', 'Kona.DI_BOX13.CF_DiBox_HPreInjVStat1', 'Kona.ABS11.ABS_DEF']) {
      expect(traces.get(name), name).toEqual({ changes: [] });
    }
    expect(traces.get('Kona.EMS16.TQI')!.changes.length).toBeGreaterThan(0);
    expect(traces.get('Yaris.NEW_MSG_6.VERY_SMALL_SIGNAL2')!.changes.length).toBeGreaterThan(0);
    expectTracesClose(traces, expected);
  });
});
