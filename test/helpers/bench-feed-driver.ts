/**
 * A CAN driver for benchmarks that hands frame batches straight to the agent's frame sink (the same
 * path a replay or SocketCAN driver uses), optionally on top of a real driver whose frames keep
 * flowing (background traffic). Plugged in through AgentOptions.canDrivers.
 */
import type { CanDriver, DriverStats, FrameSink, OutgoingFrame } from '../../drivers/can/can-driver.js';
import type { FrameBatch } from '../../drivers/can/frame-batch.js';
import type { AgentOptions } from '../../agent/runtime/agent.js';
import { canDriverSet, createCanDrivers } from '../../agent/runtime/can-drivers.js';

export class FeedDriver implements CanDriver {
  readonly name = 'bench-feed';
  private sink: FrameSink | undefined;
  private fed = 0;

  constructor(private readonly input?: CanDriver) {}

  async open(sink: FrameSink): Promise<void> {
    this.sink = sink;
    await this.input?.open(sink);
  }

  /** Delivers `batch` to the agent now (synchronously, as a driver's I/O callback does). */
  feed(batch: FrameBatch): void {
    if (!this.sink) throw new Error('FeedDriver.feed before the agent opened it');
    this.fed += batch.count;
    this.sink(batch);
  }

  send(frames: OutgoingFrame[]): Promise<void> {
    return this.input ? this.input.send(frames) : Promise.reject(new Error('the benchmark feed driver sends nothing'));
  }

  async close(): Promise<void> {
    await this.input?.close();
  }

  stats(): DriverStats {
    const s = this.input?.stats() ?? { framesIn: 0, framesOut: 0, errorFrames: 0, badInput: 0 };
    return { ...s, framesIn: s.framesIn + this.fed };
  }
}

/**
 * AgentOptions.canDrivers for a one-bus configuration: the bus is `feed`; with `keepConfigured` the
 * configured driver of that bus (e.g. its replay) runs underneath. `onCreate` receives the driver.
 */
export function feedDrivers(onCreate: (feed: FeedDriver) => void, keepConfigured = false): NonNullable<AgentOptions['canDrivers']> {
  return (config, decoder, options) => {
    if (config.buses.length !== 1) throw new Error(`the feed driver serves one bus, the configuration has ${config.buses.length}`);
    const bus = config.buses[0].name;
    const configured = keepConfigured ? createCanDrivers(config.buses, decoder, options) : undefined;
    const feed = new FeedDriver(configured?.forBus(bus));
    onCreate(feed);
    return canDriverSet(new Map([[bus, feed]]), configured?.replaysEnded ?? Promise.resolve());
  };
}
