/**
 * Runs a synthetic drive through the vehicle features the way the agent does: each batch is recorded
 * into a real SignalHistory first, then given to the FeatureSet, and `tick` is called with the sample
 * clock after every batch. Every emitted record is kept with the batch it was emitted in
 * (`batchStartUs`..`emittedUs`, the times of the batch's first and last samples, or the tick time),
 * so tests can tell "while processing the sample that caused it" from "later".
 */
import { DEFAULT_FEATURES, type FeaturesConfig } from '../../agent/config/sections/features.js';
import { buildFeatures, type FeatureEvent, type FeatureSet, type MonitorDefinitions } from '../../agent/rules/features/index.js';
import { PositionSource, type FeatureContext } from '../../agent/rules/features/feature.js';
import { SignalHistory } from '../../agent/rules/signal-history.js';
import { DEPOT, DEPOT_RADIUS_M, IGNITION, SIGNALS, TANK_L, ZONE_A, type SyntheticDrive } from '../helpers/synthetic-drive.js';
import { DEFAULT_MAINTENANCE, DEFAULT_TRIP, type IgnitionSpec } from '../../agent/config/sections/feature-settings.js';
import { Priority } from '../../wire/priority.js';

export type Emitted = FeatureEvent & { batchStartUs: number; emittedUs: number };

export interface DriveRun {
  events: Emitted[];
  features: FeatureSet;
  of<K extends FeatureEvent['kind']>(kind: K): Extract<Emitted, { kind: K }>[];
}

/** The drive's ignition as a configuration writes it: `states.ignition` over the drive's signal table. */
export function driveIgnition(states: Record<string, string> = { ignition: `${SIGNALS.ignition} >= ${IGNITION.ON}` }, timeoutS = 60): IgnitionSpec {
  return { states, signalNames: Object.values(SIGNALS), profile: {}, timeoutS };
}

/** The feature configuration the drive is made for. */
export function driveFeatures(overrides: Partial<FeaturesConfig> = {}): FeaturesConfig {
  return {
    ...DEFAULT_FEATURES,
    ignition: driveIgnition(),
    trip: { ...DEFAULT_TRIP, tankCapacityL: TANK_L },
    alerts: [
      { code: 'tyre_pressure', signal: SIGNALS.tyreLow, equals: 1, severity: 'warning', message: 'Low tyre pressure', debounceS: 2, clearDebounceS: 5 },
    ],
    maintenance: { ...DEFAULT_MAINTENANCE },
    ...overrides,
  };
}

export function driveMonitors(): MonitorDefinitions {
  return {
    geofences: [
      { name: 'depot', shape: 'circle', center: DEPOT, radiusM: DEPOT_RADIUS_M, priority: Priority.normal },
      { name: 'zone-a', shape: 'polygon', points: ZONE_A.map(([lon, lat]) => ({ lat, lon })), priority: Priority.normal },
    ],
    thresholds: [{ name: 'coolant-hot', signal: SIGNALS.coolant, above: 105, hysteresis: 4, priority: Priority.high }],
  };
}

export interface RunOptions {
  features?: FeaturesConfig;
  monitors?: MonitorDefinitions;
  batchSize?: number;
  /** Called once before the first batch. */
  setup?: (features: FeatureSet) => void;
  /** Called after each batch (with the time of its last sample). */
  afterBatch?: (features: FeatureSet, lastUs: number) => void;
}

export interface HarnessClock {
  batchStartUs: number;
  nowUs: number;
}

/** Emitted at `timeUs` while processing the batch that holds the sample of that time. */
export function emittedAtOnce(e: Emitted): boolean {
  return e.batchStartUs <= e.timeUs && e.timeUs <= e.emittedUs;
}

export function contextFor(drive: Pick<SyntheticDrive, 'names' | 'idOf'>, events: FeatureEvent[], clock: HarnessClock): FeatureContext {
  return {
    signalId: (name) => drive.idOf(name),
    signalName: (id) => drive.names[id],
    history: new SignalHistory(drive.names.length),
    positionSource: PositionSource.GNSS,
    emit: (event) => events.push({ ...event, batchStartUs: clock.batchStartUs, emittedUs: clock.nowUs } as Emitted),
  };
}

export function runDrive(drive: SyntheticDrive, options: RunOptions = {}): DriveRun {
  const events: Emitted[] = [];
  const clock: HarnessClock = { batchStartUs: 0, nowUs: 0 };
  const ctx = contextFor(drive, events, clock);
  const features = buildFeatures(ctx, options.features ?? driveFeatures(), options.monitors ?? driveMonitors());
  options.setup?.(features);
  drive.forEachBatch(options.batchSize ?? 256, (ids, timesUs, values, count) => {
    clock.batchStartUs = timesUs[0];
    clock.nowUs = timesUs[count - 1];
    for (let i = 0; i < count; i++) ctx.history.record(ids[i], timesUs[i], values[i]);
    features.onSamples(ids, timesUs, values, count);
    features.tick(clock.nowUs);
    options.afterBatch?.(features, clock.nowUs);
  });
  // The agent keeps ticking after the bus went quiet.
  for (let k = 1; k <= 120; k++) {
    clock.nowUs += 1e6;
    clock.batchStartUs = clock.nowUs;
    features.tick(clock.nowUs);
  }
  return {
    events,
    features,
    of: <K extends FeatureEvent['kind']>(kind: K) => events.filter((e): e is Extract<Emitted, { kind: K }> => e.kind === kind),
  };
}
