/**
 * The agent's configuration: its typed form and the reader that checks a parsed document section by
 * section. Every key is described in README.md (configuration reference).
 */
import { DEFAULT_FEATURES, readFeatures, type FeaturesConfig } from './sections/features.js';
import { LOG_LEVELS, type LogLevel } from '../../wire/log.js';
import type { ObjectReader, ValueNode } from './config-reader.js';
import { readBuses, type BusConfig } from './sections/buses.js';
import { readCommands, type CommandsConfig } from './sections/commands.js';
import { GNSS_SIGNALS, readGnss, type GnssConfig } from './sections/gnss.js';
import { readMonitors, type MonitorsConfig } from './sections/monitors.js';
import { readRules, readStates, type RuleConfig, type StatesConfig } from './sections/rules.js';
import { readSignalCatalog, type SignalCatalogEntry } from './sections/signals.js';
import { readStorage, type StorageConfig } from './sections/storage.js';
import { readUplink, type UplinkConfig } from './sections/uplink.js';
import { readVehicle, vehicleProfileFields, type VehicleConfig } from './sections/vehicle.js';


export interface Config {
  /** Absolute path of the file the configuration came from (empty for an in-memory text). */
  file: string;
  /** Free text sent in the Checkin (config_version), e.g. a date or a git describe. */
  version: string;
  vehicle: VehicleConfig;
  buses: BusConfig[];
  signals: SignalCatalogEntry[];
  states: StatesConfig;
  rules: RuleConfig[];
  monitors: MonitorsConfig;
  /** Trip, collision, alerts, maintenance, status and the monitors' defaults; the ignition is states.ignition. */
  features: FeaturesConfig;
  storage: StorageConfig;
  /** Absent: the agent stores and never uploads. */
  uplink?: UplinkConfig;
  /** Remote commands: keys, limits, audit log and catalog (sections/commands.ts). */
  commands: CommandsConfig;
  gnss?: GnssConfig;
  logLevel: LogLevel;
}

/** Reads and checks a whole document; problems go to the reader's context. */
export function readConfig(r: ObjectReader, file: string): Config {
  const vehicle = r.object('vehicle', { required: true });
  // Without a vehicle section (reported as required), a placeholder lets the other sections be checked.
  const vehicleConfig: VehicleConfig = vehicle ? readVehicle(vehicle) : { vin: '', brand: '', model: '', fuelType: 'other', modelYear: 0 };
  const buses = readBuses(r.get('buses'));
  const signals = readSignalCatalog(r.get('signals'), buses.map((b) => b.name));
  checkDistinctSources(r.get('signals'), signals);
  const gnss = readGnss(r.get('gnss'));
  const states = readStates(r.get('states'));
  const config: Config = {
    file,
    version: r.string('version', { default: '' }),
    vehicle: vehicleConfig,
    buses,
    signals,
    states,
    rules: readRules(r.get('rules')),
    monitors: { geofences: [], thresholds: [] },
    features: DEFAULT_FEATURES,
    storage: readStorage(r.get('storage')),
    uplink: readUplink(r.get('uplink'), vehicleConfig.vin),
    commands: readCommands(r.get('commands')),
    gnss,
    logLevel: r.oneOf('log_level', LOG_LEVELS, { default: 'info' }),
  };
  const signalNames = vehicleSignalNames(config);
  config.monitors = readMonitors(r.get('monitors'), new Set(signalNames));
  config.features = readFeatures(r.get('features'), { signalNames, states, profile: vehicleProfileFields(vehicleConfig) });
  checkDistinctNames(r, config);
  r.done();
  return config;
}

/**
 * The engine's signal table: catalog names in file order, then the GNSS signals when a GNSS source
 * is configured. A signal's id is its index here.
 */
export function vehicleSignalNames(config: Pick<Config, 'signals' | 'gnss'>): string[] {
  const names = config.signals.map((s) => s.name);
  if (config.gnss) for (const name of GNSS_SIGNALS) if (!names.includes(name)) names.push(name);
  return names;
}

/** A RulesUpdate removes rules or monitors by name: one name, one thing. */
function checkDistinctNames(r: ObjectReader, config: Config): void {
  const ruleNames = new Set(config.rules.map((rule) => rule.name));
  const monitors = r.get('monitors');
  for (const kind of ['geofences', 'thresholds'] as const) {
    config.monitors[kind].forEach((monitor, i) => {
      if (ruleNames.has(monitor.name)) monitors.child(kind).child(i).child('name').problem(`'${monitor.name}' is also a rule name`);
      ruleNames.add(monitor.name);
    });
  }
}

function checkDistinctSources(node: ValueNode, signals: SignalCatalogEntry[]): void {
  const bySource = new Map<string, string>();
  for (const entry of signals) {
    const key = `${entry.source.bus ?? ''}:${entry.source.message}.${entry.source.signal}`;
    const other = bySource.get(key);
    if (other !== undefined) node.child(entry.name).problem(`same source as '${other}' (one DBC signal feeds one vehicle signal)`);
    else bySource.set(key, entry.name);
  }
}
