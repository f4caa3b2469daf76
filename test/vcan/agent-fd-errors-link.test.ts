// The agent on vcan0 with the CAN FD fixture DBC (test/fixtures/dbc/vehicle.dbc: FdWide, a 64-byte
// frame with 29-bit ID 0x200; Gear, classic 0x600): 64-byte frames sent by cansend are decoded and
// stored; error frames are counted; the interface going down and up again is reported and the agent
// decodes the frames sent after it came back, without a restart.
import { resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/runtime/agent.js';
import { run, socketCanDriverOf, startAgent, tempDir, until, type RunningAgent } from './agent-harness.js';
import { finishAndTrace, traceRulesYaml } from './signal-trace.js';
import { cansend, requireVcan } from './vcan-env.js';

const IFACE = 'vcan0';
const FIXTURE_DBC = resolve(import.meta.dirname, '../fixtures/dbc/vehicle.dbc');
const NAMES = ['Fixture.FdWide.First', 'Fixture.FdWide.MidMoto', 'Fixture.FdWide.Last', 'Fixture.Gear.Selected'];

async function startFixtureAgent(): Promise<RunningAgent> {
  const dir = tempDir('fd');
  const running = await startAgent(
    `
vehicle: { vin: VF1RDLNK000000001, brand: Roadlink, model: Fixture, fuel_type: electric, model_year: 2024 }
buses:
  - { name: body, driver: socketcan, interface: ${IFACE}, dbc: [${JSON.stringify(FIXTURE_DBC)}] }
signals:
${NAMES.map((n) => `  ${n}: ${n.replace('Fixture.', '')}`).join('\n')}
${traceRulesYaml(NAMES)}
storage: { path: ${JSON.stringify(`${dir}/fd.db`)} }
`,
    dir,
  );
  agents.push(running.agent);
  return running;
}

/** A 64-byte FdWide payload: First is byte 0; MidMoto bytes 32-33 (Motorola, start bit 263); Last byte 63 (signed, factor -2). */
function fdWide(first: number, midMoto: number, last: number): string {
  const data = Buffer.alloc(64);
  data[0] = first;
  data.writeUInt16BE(midMoto, 32);
  data.writeInt8(last, 63);
  return data.toString('hex').toUpperCase();
}

/** The agent's live value of a catalog signal (what rules and command conditions read). */
function live(agent: Agent, name: string): number {
  return agent.engine.values[agent.engine.signalId(name)!];
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  await run('ip', ['link', 'set', IFACE, 'up']); // whatever a test left behind
});

beforeAll(() => requireVcan(IFACE));

describe('the agent on vcan0 with a CAN FD DBC', () => {
  it('decodes and stores 64-byte CAN FD frames sent by cansend', async () => {
    const { agent } = await startFixtureAgent();
    const driver = socketCanDriverOf(agent, 'body');
    expect(driver.interfaceStatus()[0]).toMatchObject({ fd: true, filters: 3, exactFilters: true });

    // "##1": CAN FD with bit rate switch; an 8-digit ID is a 29-bit one.
    await cansend(IFACE, `00000200##1${fdWide(0x01, 0x0001, 1)}`);
    await cansend(IFACE, `00000200##1${fdWide(0x2a, 0x1234, -5)}`);
    await cansend(IFACE, `00000200##0${fdWide(0xff, 0xffff, -128)}`);
    await cansend(IFACE, '600#0301'); // Gear: Selected 3 (D)
    await until('the four frames', () => agent.stats().frames >= 4);

    expect(agent.decoder.stats).toMatchObject({ frames: 4, decoded: 4, unknownId: 0, short: 0 });
    expect(live(agent, 'Fixture.Gear.Selected')).toBe(3);
    const traces = await finishAndTrace(agent, NAMES);
    // Last = signed byte 63 × -2: 1 → -2, -5 → 10, -128 → 256.
    expect(traces).toEqual(
      new Map([
        ['Fixture.FdWide.First', { changes: [42, 255], extremes: [1, 255] }],
        ['Fixture.FdWide.MidMoto', { changes: [0x1234, 0xffff], extremes: [1, 0xffff] }],
        ['Fixture.FdWide.Last', { changes: [10, 256], extremes: [-2, 256] }],
        ['Fixture.Gear.Selected', { changes: [], extremes: [3, 3] }],
      ]),
    );
  });

  it('counts error frames without feeding them to the decoder', async () => {
    const { agent } = await startFixtureAgent();
    const driver = socketCanDriverOf(agent, 'body');
    // vcan has no controller to raise bus errors: these are error frames (CAN_ERR_FLAG in the ID)
    // written by cansend, which the kernel delivers like a controller's to sockets with an error mask.
    await cansend(IFACE, '20000004#0004000000000000'); // controller problem: RX error warning
    await cansend(IFACE, '20000040#0000000000000000'); // bus off
    await cansend(IFACE, '600#02');
    await until('the Gear frame', () => agent.stats().frames >= 1);

    expect(driver.stats()).toMatchObject({ framesIn: 1, errorFrames: 2 });
    expect(driver.interfaceStatus()[0]).toMatchObject({ errorFrames: 2, state: 'up' });
    expect(agent.stats().drivers).toEqual([expect.objectContaining({ errorFrames: 2, framesIn: 1 })]);
    expect(agent.decoder.stats).toMatchObject({ frames: 1, decoded: 1, skipped: 0 });
    expect(live(agent, 'Fixture.Gear.Selected')).toBe(2);
  });

  it('reports the interface going down and up, and decodes what comes after, without a restart', async () => {
    const { agent, logs } = await startFixtureAgent();
    const driver = socketCanDriverOf(agent, 'body');
    await cansend(IFACE, '600#01');
    await until('the first Gear frame', () => live(agent, 'Fixture.Gear.Selected') === 1);

    await run('ip', ['link', 'set', IFACE, 'down']);
    await until('the agent reporting the interface down', () => logs.some((l) => l.startsWith(`warn bus body (${IFACE}) is down`)), 30_000, () => logs.join('\n'));
    expect(driver.interfaceStatus()[0]).toMatchObject({ state: 'down', downEvents: 1 });
    await expect(cansend(IFACE, '600#02')).rejects.toThrow(); // nothing goes onto a down interface

    await run('ip', ['link', 'set', IFACE, 'up']);
    await until('the agent reporting the interface up', () => logs.some((l) => l === `info bus body (${IFACE}) is up`), 30_000, () => logs.join('\n'));
    const stateLines = logs.filter((l) => l.includes(`(${IFACE}) is`));
    expect(stateLines).toHaveLength(2);
    expect(stateLines[0]).toMatch(new RegExp(`^warn bus body \\(${IFACE}\\) is down: interface ${IFACE} is down`));
    expect(stateLines[1]).toBe(`info bus body (${IFACE}) is up`);

    await cansend(IFACE, '123#AA'); // unknown: the reopened socket has its filters again
    await cansend(IFACE, '600#03');
    await until('the Gear frame sent after up', () => live(agent, 'Fixture.Gear.Selected') === 3);
    expect(driver.interfaceStatus()[0]).toMatchObject({ state: 'up', downEvents: 1, framesIn: 2 });
    expect(agent.decoder.stats).toMatchObject({ frames: 2, unknownId: 0 });
  });
});
