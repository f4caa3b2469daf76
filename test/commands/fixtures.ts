/**
 * The command tests' vehicle: a config with the demo DBC, the demo signal catalog and the demo
 * command catalog (demo-commands.yaml) checked by the real config loader; the agent's receive path
 * (real decoder → rules engine → EngineLiveSignals) fed by a SimulatedEcu; a real SQLite Store file;
 * real Ed25519 keys; and a CommandProcessor wired to all of it, collecting what it publishes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { CommandResponse } from '../../proto/gen/roadlink.js';
import type { FrameBatch } from '../../drivers/can/frame-batch.js';
import { compileCommandCatalog, type CommandCatalog } from '../../agent/commands/command-catalog.js';
import { generateKeyPair, rawPublicKeyBase64, parsePrivateKey } from '../../wire/command-keys.js';
import type { SigningKey } from '../../backend/command-client.js';
import { CommandProcessor, type CommandProcessorOptions } from '../../agent/commands/command-processor.js';
import { EngineLiveSignals } from '../../agent/commands/live-signals.js';
import { vehicleSignalNames, type Config } from '../../agent/config/config.js';
import { parseAgentConfig } from '../../agent/runtime/agent-config.js';
import { vehicleProfileFields } from '../../agent/config/sections/vehicle.js';
import { loadDbcFile } from '../../agent/decode/dbc-loader.js';
import type { DbcDatabase } from '../../agent/decode/dbc-types.js';
import { Decoder } from '../../agent/decode/decoder.js';
import { createSampleBatch, type SampleBatch } from '../../agent/decode/sample-batch.js';
import { rulesEngineFor, signalMapFor } from '../../agent/rules/engine-from-config.js';
import type { RulesEngine } from '../../agent/rules/rules-engine.js';
import { Store } from '../../agent/store/store.js';
import { RuleOutputCollector } from '../helpers/rule-output-collector.js';
import { SimulatedEcu, type EcuReaction } from '../../apps/demo/simulated-ecu.js';
import { decodedIngester } from '../helpers/ingest-decoded.js';

/** A Writable that keeps what the CLI writes. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export const DEMO_DBC = resolve(import.meta.dirname, '../../examples/demo/demo-vehicle.dbc');
export const DEMO_COMMANDS = resolve(import.meta.dirname, 'demo-commands.yaml');
export const VIN = 'VF3ABCDEFGH123456';

export const DEMO_SIGNALS = {
  'Vehicle.Speed': { source: 'VEHICLE_DYNAMICS.VehicleSpeed', unit: 'km/h' },
  'Roadlink.Ignition': 'IGNITION_STATUS.IgnitionState',
  'Vehicle.Cabin.Door.Row1.DriverSide.IsOpen': 'DOOR_STATUS.DriverDoorOpen',
  'Vehicle.Cabin.Door.Row1.PassengerSide.IsOpen': 'DOOR_STATUS.PassengerDoorOpen',
  'Vehicle.Cabin.Door.Row2.DriverSide.IsOpen': 'DOOR_STATUS.RearLeftDoorOpen',
  'Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen': 'DOOR_STATUS.RearRightDoorOpen',
  'Vehicle.Body.Trunk.Rear.IsOpen': 'DOOR_STATUS.TrunkOpen',
  'Roadlink.Body.LockState': 'DOOR_STATUS.LockState',
  'Vehicle.Body.Horn.IsActive': 'DOOR_STATUS.HornActive',
  'Roadlink.Body.LightsFlashing': 'DOOR_STATUS.LightsFlashing',
  'Vehicle.Cabin.HVAC.IsAirConditioningActive': 'CLIMATE_STATUS.AcActive',
  'Vehicle.Cabin.HVAC.AmbientAirTemperature': { source: 'CLIMATE_STATUS.CabinTemperature', unit: 'celsius' },
};

export interface TestKey extends SigningKey {
  /** The one-line public key for the config. */
  publicKey: string;
}

export function newKey(keyId: string): TestKey {
  const pair = generateKeyPair();
  return { keyId, privateKey: parsePrivateKey(pair.privateKeyPem), publicKey: rawPublicKeyBase64(pair.publicKey) };
}

export interface ConfigOptions {
  dir: string;
  keys: { key: TestKey; use?: string[] }[];
  /** Changes to the parsed `commands:` section (a plain object) before the config is checked. */
  edit?: (commands: Record<string, any>) => void;
  /** More top-level sections (rules, monitors). */
  extra?: Record<string, unknown>;
}

/** The test vehicle's config text (YAML), checked by parseAgentConfig. */
export function configText(options: ConfigOptions): string {
  const commands = (parseYaml(readFileSync(DEMO_COMMANDS, 'utf8')) as { commands: Record<string, any> }).commands;
  commands.keys = options.keys.map(({ key, use }) => ({ id: key.keyId, public_key: key.publicKey, ...(use ? { use } : {}) }));
  commands.audit_log = { path: 'audit/commands.jsonl', max_size: '64KiB', keep: 2 };
  options.edit?.(commands);
  return stringifyYaml({
    vehicle: { vin: VIN, brand: 'Roadlink', model: 'Demo', fuel_type: 'electric', model_year: 2024 },
    buses: [{ name: 'body', driver: 'socketcan', interface: 'vcan0', dbc: [DEMO_DBC] }],
    signals: DEMO_SIGNALS,
    states: { parked: 'Vehicle.Speed < 0.5 and Roadlink.Ignition == 0' },
    storage: { path: 'roadlink.db' },
    commands,
    ...options.extra,
  });
}

export function testConfig(options: ConfigOptions): Config {
  return parseAgentConfig(configText(options), { file: join(options.dir, 'roadlink.yaml'), baseDir: options.dir });
}

/** The demo body and climate ECUs: requests become status changes. */
export const demoReaction: EcuReaction = (request, ecu) => {
  const v = request.values;
  if (request.message === 'TCU_BODY_REQUEST') {
    if (v.LockRequest === 2) ecu.broadcast('DOOR_STATUS', { LockState: 'LOCKED' });
    if (v.LockRequest === 1) ecu.broadcast('DOOR_STATUS', { LockState: 'UNLOCKED' });
    if (v.HornRequest === 1) ecu.broadcast('DOOR_STATUS', { HornActive: 1 });
    if (v.LightsFlashRequest === 1) ecu.broadcast('DOOR_STATUS', { LightsFlashing: 1 });
  } else if (request.message === 'TCU_CLIMATE_REQUEST') {
    if (v.AcRequest === 2) ecu.broadcast('CLIMATE_STATUS', { AcActive: 1 });
    if (v.AcRequest === 1) ecu.broadcast('CLIMATE_STATUS', { AcActive: 0 });
  }
};

/** The agent's receive path for the test vehicle, fed by a SimulatedEcu. */
export class TestVehicle {
  readonly db: DbcDatabase;
  readonly decoder: Decoder;
  readonly engine: RulesEngine;
  readonly live: EngineLiveSignals;
  readonly ecu: SimulatedEcu;
  readonly catalog: CommandCatalog;
  private readonly ingest: (decoded: SampleBatch) => number;
  private readonly samples = createSampleBatch(256);

  constructor(readonly config: Config) {
    this.db = loadDbcFile(DEMO_DBC).db;
    const bindings = [{ bus: 'body', databases: [this.db] }];
    this.decoder = new Decoder(bindings);
    this.engine = rulesEngineFor(config, new RuleOutputCollector());
    this.ingest = decodedIngester(this.engine, signalMapFor(config, this.engine, this.decoder.signals));
    this.live = new EngineLiveSignals(this.engine);
    this.ecu = new SimulatedEcu(this.db, demoReaction, { bus: 'body', delayMs: 15 });
    void this.ecu.open((batch) => this.receive(batch));
    this.catalog = compileCommandCatalog(config.commands.catalog, {
      bindings,
      signals: config.signals,
      signalNames: vehicleSignalNames(config),
      states: config.states,
      profile: vehicleProfileFields(config.vehicle),
    });
  }

  /** What the agent runtime does with each batch from the driver. */
  receive(batch: FrameBatch): void {
    this.samples.count = 0;
    this.decoder.decode(batch, this.samples);
    this.ingest(this.samples);
    this.live.notify();
  }

  /** A parked vehicle: stopped, ignition off, doors closed and unlocked, AC off. */
  park(): void {
    this.ecu.broadcast('VEHICLE_DYNAMICS', { VehicleSpeed: 0, LongitudinalAccel: 0, LateralAccel: 0, DynamicsCounter: 0 });
    this.ecu.broadcast('IGNITION_STATUS', { IgnitionState: 'OFF', EngineRunning: 0 });
    this.ecu.broadcast('DOOR_STATUS', {
      DriverDoorOpen: 0, PassengerDoorOpen: 0, RearLeftDoorOpen: 0, RearRightDoorOpen: 0, TrunkOpen: 0,
      LockState: 'UNLOCKED', HornActive: 0, LightsFlashing: 0,
    });
    this.ecu.broadcast('CLIMATE_STATUS', { AcActive: 0, CabinTemperature: 14 });
  }
}

/** A processor over a real store file; `reopen()` simulates an agent restart. */
export class Harness {
  readonly storePath: string;
  store!: Store;
  processor!: CommandProcessor;
  /** Every response published, decoded, in order. */
  readonly published: CommandResponse[] = [];
  /** The raw bytes of each published response. */
  readonly publishedBytes: Uint8Array[] = [];

  constructor(
    readonly dir: string,
    readonly vehicle: TestVehicle,
    private readonly extra: Partial<CommandProcessorOptions> = {},
  ) {
    this.storePath = join(dir, 'roadlink.db');
    this.open();
  }

  static create(options: Omit<ConfigOptions, 'dir'>, extra: Partial<CommandProcessorOptions> = {}): Harness {
    const dir = mkdtempSync(join(tmpdir(), 'roadlink-commands-'));
    const vehicle = new TestVehicle(testConfig({ ...options, dir }));
    return new Harness(dir, vehicle, extra);
  }

  get auditPath(): string {
    return this.vehicle.config.commands.auditLog.path;
  }

  responsesFor(id: string): CommandResponse[] {
    return this.published.filter((r) => r.id === id);
  }

  /** Closes processor and store (like a stop), then opens both again from the same file. */
  reopen(options: { clean: boolean } = { clean: true }): void {
    if (options.clean) this.processor.close();
    this.store.close();
    this.open();
  }

  dispose(): void {
    this.processor.close();
    try {
      this.store.close();
    } catch {
      // closed already
    }
    void this.vehicle.ecu.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private open(): void {
    this.store = Store.open({ path: this.storePath, signalGrid: () => ({ scale: 1, offset: 0 }), onError: (e) => { throw e; } });
    this.processor = new CommandProcessor({
      vin: VIN,
      config: this.vehicle.config.commands,
      catalog: this.vehicle.catalog,
      driver: this.vehicle.ecu,
      live: this.vehicle.live,
      store: this.store,
      publish: (bytes) => {
        this.publishedBytes.push(Uint8Array.from(bytes));
        this.published.push(CommandResponse.decode(bytes));
      },
      log: () => {},
      ...this.extra,
    });
  }
}
