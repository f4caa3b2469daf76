// Counts the frames one reader receives on a CAN interface until SIGTERM, then prints
// "frames <n>" (and "drops <n>" when the reader knows the kernel's count). Readers:
//   addon          a plain socketcan addon raw channel, no timestamps
//   addon-ts       the same with kernel timestamps (as the driver's addon backend opens it)
//   native         the project's native reader (drivers/socketcan/native) alone: recvmmsg into a FrameBatch
//   driver-addon   the project's SocketCanDriver on the socketcan addon
//   driver-native  the project's SocketCanDriver on the native reader
//   driver         the SocketCanDriver with backend 'auto' (what the agent runs)
// The driver and the native reader come from dist/ (npm run build) and drivers/socketcan/native/build
// (npm run build:native). RCVBUF (bytes) sets the native reader's receive buffer (default: the driver's
// default, 1 MiB; 0: the kernel's default).
// Started by throughput.sh inside the vcan VM: node test/vcan/throughput-reader.mjs <reader> <iface>
const [reader, iface] = process.argv.slice(2);
const rcvbufBytes = process.env.RCVBUF !== undefined ? Number(process.env.RCVBUF) : undefined;
let frames = 0;
let drops;
let stop;

if (reader === 'addon' || reader === 'addon-ts') {
  const { createRawChannel } = await import('socketcan');
  const channel = createRawChannel(iface, reader === 'addon-ts');
  channel.addListener('onMessage', () => {
    frames++;
  });
  channel.start();
  stop = async () => channel.stop();
} else if (reader === 'native') {
  const { loadNativeCanAddon, SocketCounter } = await import('../../dist/drivers/socketcan/native-can-socket.js');
  const { createFrameBatch } = await import('../../dist/drivers/can/frame-batch.js');
  const batch = createFrameBatch(1024);
  const socket = new (loadNativeCanAddon().CanSocket)(iface, { rcvbufBytes: rcvbufBytes ?? 1 << 20 });
  socket.setTarget(batch.id, batch.len, batch.flags, batch.timeUs, batch.data);
  socket.poll((error) => {
    if (error) throw error;
    for (;;) {
      const n = socket.read(0, batch.capacity);
      frames += n;
      if (n < batch.capacity) break;
    }
  });
  stop = async () => {
    drops = socket.counters[SocketCounter.KERNEL_DROPS];
    socket.close();
  };
} else if (reader === 'driver' || reader === 'driver-addon' || reader === 'driver-native') {
  const { SocketCanDriver } = await import('../../dist/drivers/socketcan/socketcan-driver.js');
  const backend = reader === 'driver' ? 'auto' : reader.slice('driver-'.length);
  const driver = new SocketCanDriver({ interfaces: [{ iface }], backend, rcvbufBytes });
  await driver.open((batch) => {
    frames += batch.count;
  });
  stop = async () => {
    drops = driver.interfaceStatus()[0].kernelDrops;
    await driver.close();
  };
} else {
  console.error(`throughput-reader: unknown reader "${reader}" (addon, addon-ts, native, driver, driver-addon or driver-native)`);
  process.exit(2);
}

process.once('SIGTERM', async () => {
  await stop();
  console.log(`frames ${frames}`);
  if (drops !== undefined) console.log(`drops ${drops}`);
  process.exit(0);
});
