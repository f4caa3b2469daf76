/**
 * The CAN drivers a configuration asks for: one replay driver per replayed bus (every interface of its
 * log is delivered as that bus) and one SocketCAN driver for all socketcan buses, with kernel filters
 * that pass only the IDs the bus's DBC files define.
 */
import type { CanDriver, OutgoingFrame } from '../../drivers/can/can-driver.js';
import { ReplayDriver } from '../../drivers/replay/replay-driver.js';
import { SocketCanDriver, type InterfaceStateEvent } from '../../drivers/socketcan/socketcan-driver.js';
import type { BusConfig } from '../config/sections/buses.js';
import type { Decoder } from '../decode/decoder.js';

export interface CanDriverSet {
  readonly all: readonly CanDriver[];
  /** The driver that sends on `bus`; undefined for a bus not in the configuration. */
  forBus(bus: string): CanDriver | undefined;
  /** Sends each frame through the driver of its bus; rejects, sending nothing, when a bus is unknown. */
  send(frames: OutgoingFrame[]): Promise<void>;
  /** Resolves when every replayed log has ended (never, while a socketcan bus or a looping replay runs). */
  replaysEnded: Promise<void>;
}

export interface CanDriverOptions {
  /** 'wall' (default) stamps replayed frames with the current time; 'log' keeps the log's times. */
  replayTimestamps?: 'wall' | 'log';
  onInterfaceState?: (event: InterfaceStateEvent) => void;
  onError?: (error: Error) => void;
}

export function createCanDrivers(buses: readonly BusConfig[], decoder: Decoder, options: CanDriverOptions = {}): CanDriverSet {
  const byBus = new Map<string, CanDriver>();
  const replayEnds: Promise<void>[] = [];
  const socketBuses = buses.filter((b) => b.driver === 'socketcan');
  for (const bus of buses) {
    if (bus.driver !== 'replay') continue;
    let ended!: () => void;
    replayEnds.push(new Promise<void>((resolve) => (ended = resolve)));
    const driver = new ReplayDriver({
      path: bus.log,
      speed: bus.speed === 0 ? 'max' : bus.speed,
      loop: bus.loop,
      busRename: { '*': bus.name },
      defaultBus: bus.name,
      timestamps: options.replayTimestamps ?? 'wall',
      onEnd: (error) => {
        if (error) options.onError?.(new Error(`replay of ${bus.log} on bus ${bus.name}: ${error.message}`));
        ended();
      },
    });
    byBus.set(bus.name, driver);
  }
  if (socketBuses.length > 0) {
    const driver = new SocketCanDriver({
      interfaces: socketBuses.map((b) => ({ iface: b.interface, bus: b.name, rxIds: decoder.filterIds(b.name) })),
      onInterfaceState: options.onInterfaceState,
      onError: options.onError,
    });
    for (const bus of socketBuses) byBus.set(bus.name, driver);
  }
  const replaysEnded =
    socketBuses.length > 0 || buses.some((b) => b.driver === 'replay' && b.loop) ? new Promise<void>(() => {}) : Promise.all(replayEnds).then(() => {});
  return canDriverSet(byBus, replaysEnded);
}

/** A CanDriverSet over drivers by bus (one driver may serve several buses). */
export function canDriverSet(byBus: ReadonlyMap<string, CanDriver>, replaysEnded: Promise<void>): CanDriverSet {
  const all = [...new Set(byBus.values())];
  const send = async (frames: OutgoingFrame[]): Promise<void> => {
    const unknown = frames.find((f) => !byBus.has(f.bus));
    if (unknown) throw new Error(`no driver for bus '${unknown.bus}' (configured: ${[...byBus.keys()].join(', ')})`);
    for (const driver of all) {
      const mine = frames.filter((f) => byBus.get(f.bus) === driver);
      if (mine.length > 0) await driver.send(mine);
    }
  };
  return { all, forBus: (bus) => byBus.get(bus), send, replaysEnded };
}
