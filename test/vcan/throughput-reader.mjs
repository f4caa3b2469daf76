// Counts the frames one reader receives on a CAN interface until SIGTERM, then prints
// "frames <n>". Readers: "addon" (a plain socketcan addon raw channel, no timestamps), "addon-ts"
// (the same with kernel timestamps, as the driver opens it) and "driver" (the project's
// SocketCanDriver from dist/, built by npm run build).
// Started by throughput.sh inside the vcan VM: node test/vcan/throughput-reader.mjs <reader> <iface>
const [reader, iface] = process.argv.slice(2);
let frames = 0;
let stop;

if (reader === 'addon' || reader === 'addon-ts') {
  const { createRawChannel } = await import('socketcan');
  const channel = createRawChannel(iface, reader === 'addon-ts');
  channel.addListener('onMessage', () => {
    frames++;
  });
  channel.start();
  stop = async () => channel.stop();
} else if (reader === 'driver') {
  const { SocketCanDriver } = await import('../../dist/drivers/socketcan/socketcan-driver.js');
  const driver = new SocketCanDriver({ interfaces: [{ iface }] });
  await driver.open((batch) => {
    frames += batch.count;
  });
  stop = () => driver.close();
} else {
  console.error(`throughput-reader: unknown reader "${reader}" (addon, addon-ts or driver)`);
  process.exit(2);
}

process.once('SIGTERM', async () => {
  await stop();
  console.log(`frames ${frames}`);
  process.exit(0);
});
