/** `buses:` — where CAN frames come from and which DBC files decode them. */
import type { ObjectReader, ValueNode } from '../config-reader.js';

interface BusCommon {
  name: string;
  /** Absolute paths of the DBC files (written relative to the config file). */
  dbc: string[];
}
export interface SocketCanBusConfig extends BusCommon {
  driver: 'socketcan';
  interface: string;
}
export interface ReplayBusConfig extends BusCommon {
  driver: 'replay';
  /** candump -L log (absolute path). */
  log: string;
  /** 1 = recorded pace, 10 = ten times faster, 0 = as fast as possible. */
  speed: number;
  loop: boolean;
}
export type BusConfig = SocketCanBusConfig | ReplayBusConfig;

const DRIVERS = ['socketcan', 'replay'] as const;
/** Linux interface names: at most 15 characters (IFNAMSIZ - 1). */
const INTERFACE = /^[A-Za-z0-9_.:-]{1,15}$/;
const BUS_NAME = /^[A-Za-z0-9_-]{1,32}$/;

export function readBuses(node: ValueNode): BusConfig[] {
  const buses = node.list(readBus, { required: true, minItems: 1 });
  const seen = new Set<string>();
  buses.forEach((bus, i) => {
    if (seen.has(bus.name)) node.child(i).child('name').problem(`duplicate bus name '${bus.name}'`);
    seen.add(bus.name);
  });
  if (buses.length > 256) node.problem('at most 256 buses');
  return buses;
}

function readBus(item: ValueNode): BusConfig | undefined {
  const r = item.object();
  if (!r) return undefined;
  const name = r.string('name', { required: true, pattern: BUS_NAME, hint: 'a short name of letters, digits, _ or -' }) ?? '';
  const driver = r.oneOf('driver', DRIVERS, { required: true });
  const dbc = r.list('dbc', (file) => file.path({ mustExist: 'file' }), { required: true, minItems: 1 });
  let bus: BusConfig | undefined;
  if (driver === 'socketcan') {
    bus = { name, driver, dbc, interface: r.string('interface', { required: true, pattern: INTERFACE, hint: 'a network interface name like can0' }) ?? '' };
  } else if (driver === 'replay') {
    bus = {
      name,
      driver,
      dbc,
      log: r.path('log', { required: true, mustExist: 'file' }) ?? '',
      speed: r.number('speed', { default: 1, min: 0 }),
      loop: r.boolean('loop', { default: false }),
    };
  }
  // With an unknown driver, the driver-specific keys are not reported as unknown as well.
  r.done(driver ? [] : ['interface', 'log', 'speed', 'loop']);
  return bus;
}
