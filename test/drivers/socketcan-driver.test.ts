// What can run without kernel CAN support: the socketcan addon loads, opening fails clearly on both
// backends (the native reader's own checks: native-can-socket.test.ts), filters are right.
// The driver's receive/send/reopen paths run against vcan in the VM suite (test/vcan/).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diagnoseInterface, loadSocketcanAddon, SocketCanDriver } from '../../drivers/socketcan/socketcan-driver.js';
import { buildRxFilters, CAN_RAW_FILTER_MAX, dropUnwanted, filterPasses, wantedKey, type RxId } from '../../drivers/socketcan/rx-filters.js';
import { createFrameBatch, framePayload, FrameFlag, pushFrame } from '../../drivers/can/frame-batch.js';
import { pickBackend } from '../../drivers/socketcan/pick-backend.js';
import { corpusFile } from '../helpers/corpus.js';

describe('socketcan addon', () => {
  it('loads the real native addon', () => {
    const addon = loadSocketcanAddon();
    expect(typeof addon.createRawChannelWithOptions).toBe('function');
  });
});

describe.each(['native', 'addon'] as const)('SocketCanDriver.open on the %s backend', (backend) => {
  it.skipIf(existsSync('/sys/class/net/vcan9'))('rejects with the interface name and why when the interface does not exist', async () => {
    const driver = new SocketCanDriver({ backend, interfaces: [{ iface: 'vcan9', rxIds: [{ id: 0x123, extended: false }] }] });
    await expect(driver.open(() => {})).rejects.toThrow('socketcan: cannot open CAN interface "vcan9": no such network interface (/sys/class/net/vcan9 does not exist)');
    expect(driver.backend).toBe(backend);
    expect(driver.interfaceStatus()[0]).toMatchObject({ iface: 'vcan9', bus: 'vcan9', state: 'closed', backend });
    await expect(driver.send([{ bus: 'vcan9', id: 1, data: new Uint8Array(1) }])).rejects.toThrow(/closed/);
  });

  it('says so when the interface is not a CAN interface', async () => {
    // The loopback interface exists on every Linux machine; its link type is 772, not CAN (280).
    const driver = new SocketCanDriver({ backend, interfaces: [{ iface: 'lo', bus: 'body' }] });
    await expect(driver.open(() => {})).rejects.toThrow(/cannot open CAN interface "lo": not a CAN interface \(link type 772/);
    expect(diagnoseInterface('not/a/name')).toBe('not a valid interface name');
  });
});

describe('SocketCanDriver', () => {
  it('takes the native reader by default (npm ci builds it), and says which backend it runs', async () => {
    const driver = new SocketCanDriver({ interfaces: [{ iface: 'lo' }] });
    expect(driver.backend).toBeUndefined();
    await expect(driver.open(() => {})).rejects.toThrow(/not a CAN interface/);
    expect(driver.backend).toBe('native');
    expect(driver.backendFallbackReason).toBeUndefined();
  });

  it('refuses bad configurations before touching the kernel', () => {
    expect(() => new SocketCanDriver({ interfaces: [] })).toThrow(/no interfaces/);
    expect(() => new SocketCanDriver({ interfaces: [{ iface: 'vcan0' }, { iface: 'vcan1', bus: 'vcan0' }] })).toThrow(/bus vcan0 is given twice/);
    expect(() => new SocketCanDriver({ interfaces: [{ iface: 'vcan0', rxIds: [{ id: 0x800, extended: false }] }] })).toThrow(/0x800\) is out of range for a 11-bit/);
  });
});

describe('pickBackend', () => {
  const missing = (what: string) => () => {
    throw new Error(`${what} is not built`);
  };

  it('takes the native reader when it loads, else the socketcan addon, saying why', () => {
    const auto = pickBackend('auto');
    expect(auto.name).toBe('native');
    expect(auto.fallbackReason).toBeUndefined();
    const fallback = pickBackend('auto', { native: missing('native reader'), addon: loadSocketcanAddon });
    expect(fallback).toMatchObject({ name: 'addon', fallbackReason: 'native reader is not built' });
  });

  it('fails naming both when neither loads, and when the one asked for does not', () => {
    const none = { native: missing('native reader'), addon: missing('socketcan addon') };
    expect(() => pickBackend('auto', none)).toThrow('socketcan: no backend loads: native reader is not built; socketcan addon is not built');
    expect(() => pickBackend('native', { ...none, addon: loadSocketcanAddon })).toThrow('native reader is not built');
    expect(pickBackend('addon', { ...none, addon: loadSocketcanAddon }).name).toBe('addon');
  });
});

describe('dropUnwanted', () => {
  it('keeps the wanted IDs and error frames in order, payloads and times moved along', () => {
    const batch = createFrameBatch(8);
    pushFrame(batch, { bus: 'a', id: 0x100, data: [1], timeUs: 1 });
    pushFrame(batch, { bus: 'a', id: 0x101, data: [2, 2], timeUs: 2 }); // not wanted
    pushFrame(batch, { bus: 'a', id: 0x100, flags: FrameFlag.EXTENDED, data: [3], timeUs: 3 }); // 29-bit 0x100: not wanted
    pushFrame(batch, { bus: 'b', id: 0x1abcde00, flags: FrameFlag.EXTENDED, data: [4, 4, 4], timeUs: 4 });
    pushFrame(batch, { bus: 'a', id: 0x4, flags: FrameFlag.ERROR, data: new Array(8).fill(5), timeUs: 5 });
    pushFrame(batch, { bus: 'a', id: 0x7ff, data: [6], timeUs: 6 }); // not wanted
    const wanted = new Set([wantedKey(0x100, false), wantedKey(0x1abcde00, true)]);
    // Only frames from index 1 on are looked at: frame 0 stays whatever it is.
    batch.count = dropUnwanted(batch, 1, wanted);
    const frames = Array.from({ length: batch.count }, (_, i) => [batch.busNames[batch.bus[i]], batch.id[i], batch.flags[i], [...framePayload(batch, i)], batch.timeUs[i]]);
    expect(frames).toEqual([
      ['a', 0x100, 0, [1], 1],
      ['b', 0x1abcde00, FrameFlag.EXTENDED, [4, 4, 4], 4],
      ['a', 0x4, FrameFlag.ERROR, new Array(8).fill(5), 5],
    ]);
  });
});

describe('buildRxFilters', () => {
  const CAN_EFF_FLAG = 0x80000000;

  it('makes one exact filter per ID, the 29-bit ones with CAN_EFF_FLAG in id and mask', () => {
    const plan = buildRxFilters([
      { id: 0x123, extended: false },
      { id: 0x18daf110, extended: true },
      { id: 0x123, extended: false },
      { id: 0x7ff, extended: false },
      { id: 0x123, extended: true },
    ]);
    expect(plan.exact).toBe(true);
    expect(plan.filters).toEqual([
      { id: 0x123, mask: 0x800007ff },
      { id: 0x7ff, mask: 0x800007ff },
      { id: 0x80000123, mask: 0x9fffffff },
      { id: 0x98daf110, mask: 0x9fffffff },
    ]);
    // The addon passes only unsigned 32-bit numbers to the kernel (IsUint32), so none may be negative.
    for (const f of plan.filters) expect(f.id >= 0 && f.mask >= 0 && f.mask <= 0xffffffff).toBe(true);
  });

  it('keeps 11-bit and 29-bit frames of the same number apart', () => {
    const [std, ext] = buildRxFilters([{ id: 0x123, extended: false }, { id: 0x123, extended: true }]).filters;
    expect(filterPasses(std, 0x123, false)).toBe(true);
    expect(filterPasses(std, 0x123, true)).toBe(false);
    expect(filterPasses(ext, 0x123, true)).toBe(true);
    expect(filterPasses(ext, 0x123, false)).toBe(false);
    expect(filterPasses(std, 0x124, false)).toBe(false);
    expect(filterPasses({ id: 0x80000123, mask: 0x9fffffff }, 0x10000123, true)).toBe(false);
  });

  it('means "everything" for an empty list', () => {
    expect(buildRxFilters([])).toEqual({ filters: [], exact: true });
  });

  it('fits the IDs of all the corpus DBCs into the kernel limit, passing every one of them', () => {
    const ids: RxId[] = [];
    for (const rel of ['gm_global_a_lowspeed_1818125.dbc', 'hyundai_can.dbc', 'psa_aee2010_r3.dbc', 'tesla_can.dbc', 'toyota_iQ_2009_can.dbc', 'vw_mqb.dbc', 'FORD_CADS_64.dbc']) {
      for (const m of readFileSync(corpusFile(`dbc/opendbc/${rel}`), 'latin1').matchAll(/^BO_ (\d+) (\w+)/gm)) {
        if (m[2] === 'VECTOR__INDEPENDENT_SIG_MSG') continue;
        const raw = Number(m[1]);
        ids.push(raw >= CAN_EFF_FLAG ? { id: raw - CAN_EFF_FLAG, extended: true } : { id: raw, extended: false });
      }
    }
    const distinct = new Set(ids.map((r) => `${r.extended}:${r.id}`)).size;
    expect(distinct).toBeGreaterThan(CAN_RAW_FILTER_MAX);

    const plan = buildRxFilters(ids);
    expect(plan.exact).toBe(false);
    expect(plan.filters.length).toBeLessThanOrEqual(CAN_RAW_FILTER_MAX);
    for (const r of ids) expect(plan.filters.some((f) => filterPasses(f, r.id, r.extended))).toBe(true);
    // Merging loses little: most 11-bit IDs that no DBC defines are still kept out.
    const wantedStd = new Set(ids.filter((r) => !r.extended).map((r) => r.id));
    let extraStd = 0;
    for (let id = 0; id <= 0x7ff; id++) if (!wantedStd.has(id) && plan.filters.some((f) => filterPasses(f, id, false))) extraStd++;
    expect(extraStd).toBeLessThan(2048 - wantedStd.size);

    const small = buildRxFilters(ids.filter((r) => r.extended));
    expect(small.exact).toBe(true);
    expect(small.filters).toHaveLength(new Set(ids.filter((r) => r.extended).map((r) => r.id)).size);
  });

  it('collapses to a handful of filters when asked for very few', () => {
    const ids: RxId[] = [...Array(300).keys()].map((k) => ({ id: k * 3, extended: false }));
    ids.push({ id: 0x1fffffff, extended: true }, { id: 0, extended: true });
    const plan = buildRxFilters(ids, 4);
    expect(plan.filters.length).toBeLessThanOrEqual(4);
    for (const r of ids) expect(plan.filters.some((f) => filterPasses(f, r.id, r.extended))).toBe(true);
  });
});
