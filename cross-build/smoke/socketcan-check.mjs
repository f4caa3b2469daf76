// Runs on the bundled node (under qemu) from inside the bundle's app/ dir: loads the socketcan addon
// (can.node and can_signals.node), makes one native call that needs no kernel support, and asks for
// a raw channel. On a build machine the kernel has no CAN, so opening fails: that must be a
// JavaScript error, not a crash or a load failure.
// usage: socketcan-check.mjs <interface>
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const iface = process.argv[2] ?? 'vcan0';
const fail = (message) => {
  console.error(`socketcan-check: ${message}`);
  process.exit(1);
};

const can = require('socketcan'); // loads both native modules
if (typeof can.createRawChannel !== 'function') fail('the addon loaded but has no createRawChannel()');

// Native signal packing: 0x2EE0 as a 16-bit little-endian field at bit 0, and 0x5A as an 8-bit
// field at bit 24, must land in bytes 0-1 and 3.
const signals = require('socketcan/build/Release/can_signals.node');
const data = Buffer.alloc(8);
signals.encodeSignal(data, 0, 16, true, false, 0x2ee0);
signals.encodeSignal(data, 24, 8, true, false, 0x5a);
if (data.toString('hex') !== 'e02e005a00000000') fail(`encodeSignal packed ${data.toString('hex')}, expected e02e005a00000000`);
console.log(`  can_signals.node packs fields correctly (${data.toString('hex')})`);

try {
  const channel = can.createRawChannel(iface, true);
  console.log(`  opened ${iface} (this kernel has CAN)`);
  channel.stop?.();
} catch (err) {
  console.log(`  can.node loaded; opening ${iface} failed as expected without kernel CAN: ${err.message}`);
}
