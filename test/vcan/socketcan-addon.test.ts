// End-to-end check of the VM's SocketCAN stack with the real socketcan addon and can-utils (C):
// frames cross between the addon and cansend/candump on vcan0, CAN FD included, and kernel filters
// set through the addon hold. A raw socket does not receive its own frames, so the addon sends and
// receives on separate channels.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRawChannel } from 'socketcan';
import { AddonReceiver } from './addon-receiver.js';
import { Candump } from './candump.js';
import { cansend, netSysValue, requireVcan } from './vcan-env.js';

const IFACE = 'vcan0';
const ARPHRD_CAN = '280';
const CANFD_MTU = '72';
const CAN_EFF_FLAG = 0x80000000;
const CANFD_BRS = 0x1;
const PROBE = `${IFACE} 7FF#`;

const open: Array<{ stop(): unknown }> = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.stop();
});

function receiver(filters?: ConstructorParameters<typeof AddonReceiver>[1]): AddonReceiver {
  const rx = new AddonReceiver(IFACE, filters);
  open.push(rx);
  return rx;
}

async function candump(): Promise<Candump> {
  const dump = await Candump.start([IFACE], PROBE, () => cansend(IFACE, '7FF#'));
  open.push(dump);
  return dump;
}

beforeAll(() => requireVcan(IFACE));

describe('vcan0 in the VM', () => {
  it('is an up CAN interface whose MTU carries CAN FD', () => {
    expect(netSysValue(IFACE, 'type')).toBe(ARPHRD_CAN);
    expect(Number(netSysValue(IFACE, 'flags')) & 0x1).toBe(1); // IFF_UP
    expect(netSysValue(IFACE, 'mtu')).toBe(CANFD_MTU);
  });
});

describe('socketcan addon <-> can-utils on vcan0', () => {
  it('receives what cansend sends, with data and a kernel timestamp', async () => {
    const rx = receiver();
    const before = Date.now() * 1000;
    await cansend(IFACE, '123#DEADBEEF');
    await cansend(IFACE, '1ABCDE00#0102');
    const classic = await rx.waitFor((m) => m.id === 0x123);
    const extended = await rx.waitFor((m) => m.id === 0x1abcde00);
    const after = Date.now() * 1000;

    expect(classic.ext).toBeFalsy();
    expect(classic.data).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(extended.ext).toBe(true);
    expect(extended.data).toEqual(Buffer.from([0x01, 0x02]));
    const tsUs = classic.ts_sec! * 1e6 + classic.ts_usec!;
    expect(tsUs).toBeGreaterThanOrEqual(before - 1000);
    expect(tsUs).toBeLessThanOrEqual(after + 1000);
  });

  it('sends frames that candump -L prints exactly', async () => {
    const dump = await candump();
    const tx = createRawChannel(IFACE);
    tx.send({ id: 0x321, ext: false, rtr: false, data: Buffer.from('0102030405060708', 'hex') });
    tx.send({ id: 0x18fef100, ext: true, rtr: false, data: Buffer.from('aabb', 'hex') });

    expect(await dump.waitForFrame((f) => f.includes(' 321#'))).toBe(`${IFACE} 321#0102030405060708`);
    expect(await dump.waitForFrame((f) => f.includes(' 18FEF100#'))).toBe(`${IFACE} 18FEF100#AABB`);
  });

  it('carries a 64-byte CAN FD frame from the addon to the addon and to candump, and from cansend to the addon', async () => {
    const rx = receiver();
    const dump = await candump();
    const tx = createRawChannel(IFACE);
    const payload = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 7 + 1) & 0xff));
    tx.sendFD({ id: 0x456, ext: false, rtr: false, data: payload, fd_brs: true } as Parameters<typeof tx.sendFD>[0]);

    expect((await rx.waitFor((m) => m.id === 0x456)).data).toEqual(payload);
    // "##<flags nibble>" marks CAN FD in the log format: 0x1 is BRS (6.x kernels add 0x4, CANFD_FDF).
    const logged = await dump.waitForFrame((f) => f.includes(' 456#'));
    expect(logged).toMatch(new RegExp(`^${IFACE} 456##[0-9A-F]${payload.toString('hex').toUpperCase()}$`));
    expect(parseInt(logged.charAt(`${IFACE} 456##`.length), 16) & CANFD_BRS).toBe(CANFD_BRS);

    const fromC = Buffer.from(Array.from({ length: 20 }, (_, i) => 0xa0 + i));
    await cansend(IFACE, `457##0${fromC.toString('hex')}`);
    expect((await rx.waitFor((m) => m.id === 0x457)).data).toEqual(fromC);
  });

  it('never delivers frames outside a kernel filter set on the addon channel', async () => {
    // Standard ids 0x100-0x10F (the EFF flag in the mask rejects extended ids with those bits),
    // plus exactly the extended id 0x18FEF100.
    const rx = receiver([
      { id: 0x100, mask: (0x7f0 | CAN_EFF_FLAG) >>> 0 },
      { id: (0x18fef100 | CAN_EFF_FLAG) >>> 0, mask: (0x1fffffff | CAN_EFF_FLAG) >>> 0 },
    ]);
    const tx = createRawChannel(IFACE);
    const sent: Array<[number, boolean]> = [
      [0x0ff, false], [0x100, false], [0x10f, false], [0x110, false], [0x200, false], [0x7ff, false],
      [0x100, true], [0x18fef100, true], [0x18fef101, true],
    ];
    for (const [id, ext] of sent) tx.send({ id, ext, rtr: false, data: Buffer.from([id & 0xff]) });
    // Frames reach a socket in order: once the last passing frame is in, every earlier one has been decided.
    tx.send({ id: 0x105, ext: false, rtr: false, data: Buffer.from('END') });
    await rx.waitFor((m) => m.id === 0x105);

    expect(rx.messages.map((m) => `${m.ext ? 'x' : 's'}${m.id.toString(16)}`)).toEqual(['s100', 's10f', 'x18fef100', 's105']);
  });
});
