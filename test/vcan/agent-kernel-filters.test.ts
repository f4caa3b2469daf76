// Kernel filters: the agent's SocketCAN bus sets CAN_RAW_FILTER from the IDs its DBC files define, so
// frames with any other ID never reach JavaScript. cangen sweeps every 11-bit ID once and cansend
// adds 29-bit frames (among them the 29-bit twins of known 11-bit IDs, and the reverse) and a remote
// request; the driver's counters, the decoder's and the kernel's own per-filter match counters
// (/proc/net/can/rcvlist_*) must all show exactly the frames with known IDs.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/runtime/agent.js';
import { dbcIds, run, sleep, socketCanDriverOf, startAgent, tempDir, until } from './agent-harness.js';
import { netSysValue, requireVcan } from './vcan-env.js';

const IFACE = 'vcan0';
const DEMO_DBC = resolve(import.meta.dirname, '../../examples/demo/demo-vehicle.dbc');
/** Classic 11-bit Gear (0x600) and 29-bit Engine29 (0x18FEF1FE) and FdWide (0x200, 64 bytes). */
const FIXTURE_DBC = resolve(import.meta.dirname, '../fixtures/dbc/vehicle.dbc');

/** Frames the kernel handed to sockets through a filter entry on `iface`, summed over its filter lists. */
function kernelFilterMatches(iface: string): number {
  let matches = 0;
  for (const list of ['rcvlist_sff', 'rcvlist_eff', 'rcvlist_fil']) {
    for (const line of readFileSync(`/proc/net/can/${list}`, 'utf8').split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols[0] === iface && cols.at(-1) === 'raw') matches += Number(cols.at(-2));
    }
  }
  return matches;
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
});

beforeAll(() => requireVcan(IFACE));

describe('kernel filters from the DBC files of a bus', () => {
  it('let only the frames with known IDs reach JavaScript', async () => {
    const dir = tempDir('filters');
    const known = new Set([...dbcIds(DEMO_DBC), ...dbcIds(FIXTURE_DBC)]);
    const knownStandard = [...known].filter((id) => id.length === 3);
    const knownExtended = [...known].filter((id) => id.length === 8);
    expect(knownExtended.sort()).toEqual(['00000200', '18FEF1FE']);

    const { agent } = await startAgent(
      `
vehicle: { vin: VF1RDLNK000000001, brand: Roadlink, model: Demo, fuel_type: petrol, model_year: 2024 }
buses:
  - { name: body, driver: socketcan, interface: ${IFACE}, dbc: [${JSON.stringify(DEMO_DBC)}, ${JSON.stringify(FIXTURE_DBC)}] }
signals:
  Vehicle.Speed: VEHICLE_DYNAMICS.VehicleSpeed
storage: { path: ${JSON.stringify(`${dir}/filters.db`)} }
`,
      dir,
    );
    agents.push(agent);
    const driver = socketCanDriverOf(agent, 'body');
    expect(driver.interfaceStatus()[0]).toMatchObject({ iface: IFACE, state: 'up', filters: known.size, exactFilters: true });
    // The agent's socket is the only one on the interface with filters (can-utils' have none).
    expect(kernelFilterMatches(IFACE)).toBe(0);
    const rxBefore = Number(netSysValue(IFACE, 'statistics/rx_packets'));

    // Every 11-bit ID once (cangen -I i counts up from 0), 8 bytes each.
    await run('cangen', [IFACE, '-I', 'i', '-L', '8', '-D', 'i', '-n', '2048', '-g', '0', '-p', '10']);
    const extras = [
      '00000100#0102', // the 29-bit twin of known 0x100: unknown
      '00000600#01', // 29-bit twin of 0x600
      '18FEF1FF#0102030405060708', // neighbour of a known 29-bit ID
      '18FEF1FE#0102030405060708', // known 29-bit (Engine29)
      '00000200#11', // known 29-bit (FdWide), classic frame
      '300#R', // remote request for a known ID: passes the filter, carries no data
      '7FF#', // unknown
      '100#0000000000000000', // known: last, so every frame before it has been decided when it arrives
    ];
    for (const frame of extras) await run('cansend', [IFACE, frame]);
    const sent = 2048 + extras.length;
    const expectedIn = knownStandard.length + extras.filter((f) => known.has(f.split('#')[0])).length;

    await until('the last known frame', () => driver.stats().framesIn >= expectedIn, 30_000, () =>
      `${driver.stats().framesIn} of ${expectedIn}; the kernel's filter list:\n${readFileSync('/proc/net/can/rcvlist_fil', 'utf8')}`,
    );
    await sleep(300);
    expect(Number(netSysValue(IFACE, 'statistics/rx_packets')) - rxBefore).toBe(sent); // all of them were on the bus
    expect(kernelFilterMatches(IFACE)).toBe(expectedIn); // the kernel delivered these to the agent's socket
    expect(driver.stats()).toMatchObject({ framesIn: expectedIn, errorFrames: 0 });
    expect(driver.interfaceStatus()[0].framesIn).toBe(expectedIn);
    expect(agent.stats().frames).toBe(expectedIn);
    // The decoder saw no unknown ID; the remote request is the one frame without data to decode.
    expect(agent.decoder.stats).toMatchObject({ frames: expectedIn, decoded: expectedIn - 1, unknownId: 0, skipped: 1 });
  });
});
