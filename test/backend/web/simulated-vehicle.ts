/**
 * A vehicle on the broker that answers the backend: the agent's Uplink, its CommandProcessor over
 * the simulated body ECU (test/commands/fixtures.ts) and its RulesUpdater (monitors), trusting
 * `key`. What the fleet page's remote actions and monitors reach through the real backend.
 */
import { RulesUpdater } from '../../../agent/commands/rules-update.js';
import { vehicleSignalNames } from '../../../agent/config/config.js';
import { rulesEngineFor } from '../../../agent/rules/engine-from-config.js';
import { Uplink } from '../../../agent/uplink/uplink.js';
import { Harness, VIN, type TestKey } from '../../commands/fixtures.js';
import { RuleOutputCollector } from '../../helpers/rule-output-collector.js';
import { waitFor } from '../../uplink/fixtures.js';

export const SIMULATED_VIN = VIN;

export class SimulatedVehicle {
  private constructor(
    readonly harness: Harness,
    private readonly uplink: Uplink,
  ) {}

  /** The commands it executes, as a checkin announces them (`cmd:NAME`). */
  get capabilities(): string[] {
    return this.harness.vehicle.catalog.names.map((name) => `cmd:${name}`);
  }

  static async connect(brokerUrl: string, key: TestKey): Promise<SimulatedVehicle> {
    let uplink: Uplink | undefined;
    const harness = Harness.create({ keys: [{ key }] }, { publish: (bytes) => uplink!.publishCommandResponse(bytes) });
    const config = harness.vehicle.config;
    const rules = new RulesUpdater({
      vin: VIN, keys: config.commands.keys, engine: rulesEngineFor(config, new RuleOutputCollector()), monitors: config.monitors,
      setMonitors: () => {}, signalNames: vehicleSignalNames(config), store: harness.store,
      publishAck: (bytes) => uplink!.publishRulesAck(bytes), log: () => {},
    });
    const capabilities = harness.vehicle.catalog.names.map((name) => `cmd:${name}`);
    uplink = new Uplink({ vin: VIN, broker: { url: brokerUrl }, store: harness.store, checkin: () => ({ capabilities }), log: () => {} });
    uplink.onCommand((bytes) => harness.processor.handle(bytes).then(() => undefined));
    uplink.onRulesUpdate((bytes) => rules.handle(bytes).then(() => undefined));
    uplink.start();
    await waitFor(() => uplink.stats().connected, 'the vehicle connected');
    harness.vehicle.park();
    return new SimulatedVehicle(harness, uplink);
  }

  async disconnect(): Promise<void> {
    await this.uplink.stop();
    this.harness.dispose();
  }
}
