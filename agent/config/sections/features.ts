/**
 * `features:` — the vehicle features computed at the edge. Every part is optional: an absent part runs
 * with its defaults (VSS signal names; a feature whose signals the vehicle lacks stays silent), and
 * `false` turns it off. Durations are written "10s", "2m"; signal names must be in the catalog
 * (or provided by the GNSS driver). The ignition is not configured here: trips and the status follow
 * `states.ignition`, the same expression that drives the engine's ignition_on/off events (ignition.ts).
 *
 *   features:
 *     ignition_timeout: 60s      # ignition inputs silent this long (bus asleep) → ignition OFF
 *     trip: { min_duration: 1m, tank_capacity_l: 50, battery_capacity_kwh: 0, level_average: 1m }
 *     collision:
 *       airbag: { signal: Vehicle.Cabin.Seat.Row1.DriverSide.Airbag.IsDeployed, at_least: 1 }
 *       acceleration: { signals: [Vehicle.Acceleration.Longitudinal, Vehicle.Acceleration.Lateral], threshold_g: 2.5, unit: m/s2 }
 *       pre_window: 10s
 *       post_window: 5s
 *       window_signals: [Vehicle.Speed, Vehicle.Acceleration.Longitudinal]
 *     alerts:
 *       - { code: tyre_pressure, signal: Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.IsPressureLow, equals: 1,
 *           severity: warning, message: "Low tyre pressure", debounce: 2s, clear_debounce: 5s }
 *     maintenance: { next_service_date: 2025-06-01, distance_thresholds_km: [1000, 0], day_thresholds: [30, 0], period: 1d }
 *     status: { min_interval: 10s, move_m: 200, fuel_step_pct: 5, level_average: 1m, heartbeat: 0s }
 *     geofence_margin_m: 15      # defaults of the monitors (each geofence/threshold may set its own)
 *     geofence_dwell: 3s
 *     threshold_dwell: 0s
 *
 * Every key, with its default, is in README.md (configuration reference).
 */
import type { ObjectReader, ValueNode } from '../config-reader.js';
import type { StatesConfig } from './rules.js';
import {
  DEFAULT_COLLISION,
  DEFAULT_IGNITION,
  DEFAULT_MAINTENANCE,
  DEFAULT_MONITOR_OPTIONS,
  DEFAULT_STATUS,
  DEFAULT_TRIP,
  type AlertConfig,
  type CollisionConfig,
  type DoorSignals,
  type IgnitionSpec,
  type MaintenanceConfig,
  type MonitorOptions,
  type StatusConfig,
  type TripConfig,
} from './feature-settings.js';

export interface FeaturesConfig {
  ignition: IgnitionSpec;
  /** null = turned off. */
  trip: TripConfig | null;
  collision: CollisionConfig | null;
  alerts: AlertConfig[];
  maintenance: MaintenanceConfig | null;
  status: StatusConfig | null;
  monitors: MonitorOptions;
}

export const DEFAULT_FEATURES: FeaturesConfig = {
  ignition: DEFAULT_IGNITION,
  trip: DEFAULT_TRIP,
  collision: DEFAULT_COLLISION,
  alerts: [],
  maintenance: DEFAULT_MAINTENANCE,
  status: DEFAULT_STATUS,
  monitors: DEFAULT_MONITOR_OPTIONS,
};

/** What the section may refer to in the rest of the configuration. */
export interface FeaturesEnv {
  /** The vehicle signal table (vehicleSignalNames(config)): catalog names, then GNSS names. */
  signalNames: readonly string[];
  /** The `states:` section; `states.ignition` is the features' ignition. */
  states: StatesConfig;
  /** Vehicle fields the states may use (vehicleProfileFields(config.vehicle)). */
  profile: Readonly<Record<string, number | string>>;
}

const SEVERITIES = ['info', 'warning', 'critical'] as const;
const IGNITION_IS_A_STATE =
  'the ignition is defined once, as states.ignition (an expression such as "Vehicle.LowVoltageSystemState >= 2"), ' +
  'which drives both the ignition_on/off events and the trips; the silence timeout is features.ignition_timeout';

/** A part of the section: absent → its defaults, `false` → off (null), a mapping → read (unknown keys reported). */
function readPart<T>(parent: ObjectReader, key: string, defaults: T, read: (r: ObjectReader) => T): T | null {
  const node = parent.get(key);
  if (!node.present) return defaults;
  if (node.value === false) return null;
  const r = node.object();
  if (!r) return defaults;
  const value = read(r);
  r.done();
  return value;
}
const seconds = (ms: number): number => ms / 1000;

/** Reads the section; problems go to the reader's context (the config loader throws ConfigError). */
export function readFeatures(node: ValueNode, env: FeaturesEnv): FeaturesConfig {
  const ignitionOf = (timeoutS: number): IgnitionSpec => ({ states: env.states, signalNames: env.signalNames, profile: env.profile, timeoutS });
  const r = node.object();
  if (!r) return { ...DEFAULT_FEATURES, ignition: ignitionOf(DEFAULT_IGNITION.timeoutS) };
  const signalNames = new Set(env.signalNames);
  const signal = (sr: ObjectReader, key: string, fallback: string): string => {
    const name = sr.string(key);
    if (name === undefined) return fallback;
    if (!signalNames.has(name)) sr.get(key).problem(`unknown signal '${name}' (not in signals:)`);
    return name;
  };
  const signalList = (sr: ObjectReader, key: string, fallback: string[]): string[] => {
    if (!sr.has(key)) return fallback;
    return sr.list(key, (item) => {
      const name = item.string({ required: true });
      if (name !== undefined && !signalNames.has(name)) item.problem(`unknown signal '${name}' (not in signals:)`);
      return name;
    });
  };
  const part = <T>(key: string, defaults: T, read: (pr: ObjectReader) => T): T | null => readPart(r, key, defaults, read);

  if (r.has('ignition')) r.get('ignition').problem(IGNITION_IS_A_STATE);
  const ignition = ignitionOf(seconds(r.duration('ignition_timeout', { default: DEFAULT_IGNITION.timeoutS * 1000 })));

  const trip = part('trip', DEFAULT_TRIP, (tr) => {
    const d = DEFAULT_TRIP.signals;
    const sr = tr.object('signals');
    const signals = sr
      ? {
          speed: signal(sr, 'speed', d.speed),
          odometer: signal(sr, 'odometer', d.odometer),
          fuelLevel: signal(sr, 'fuel_level', d.fuelLevel),
          fuelConsumed: signal(sr, 'fuel_consumed', d.fuelConsumed),
          soc: signal(sr, 'soc', d.soc),
          energyConsumed: signal(sr, 'energy_consumed', d.energyConsumed),
        }
      : d;
    sr?.done();
    return {
      minDurationS: seconds(tr.duration('min_duration', { default: DEFAULT_TRIP.minDurationS * 1000 })),
      tankCapacityL: tr.number('tank_capacity_l', { min: 1 }),
      batteryCapacityKwh: tr.number('battery_capacity_kwh', { min: 0.1 }),
      levelAverageS: seconds(tr.duration('level_average', { default: DEFAULT_TRIP.levelAverageS * 1000, minMs: 1000 })),
      maxSpeedGapS: seconds(tr.duration('max_speed_gap', { default: DEFAULT_TRIP.maxSpeedGapS * 1000, minMs: 100 })),
      signals,
    };
  });

  if (trip && r.has('trip') && env.states.ignition === undefined) {
    r.get('trip').problem('needs states.ignition: a trip lasts from ignition on to ignition off');
  }

  const collision = part('collision', DEFAULT_COLLISION, (cr) => {
    const d = DEFAULT_COLLISION;
    const airbag = readPart(cr, 'airbag', d.airbag, (ar) => ({ signal: signal(ar, 'signal', d.airbag!.signal), atLeast: ar.number('at_least', { default: 1 }) }));
    const acceleration = readPart(cr, 'acceleration', d.acceleration, (ar) => ({
      signals: signalList(ar, 'signals', d.acceleration!.signals),
      thresholdG: ar.number('threshold_g', { default: d.acceleration!.thresholdG, min: 0.1 }),
      unit: ar.oneOf('unit', ['m/s2', 'g'] as const, { default: 'm/s2' }),
    }));
    return {
      airbag: airbag ?? undefined,
      acceleration: acceleration ?? undefined,
      preWindowS: seconds(cr.duration('pre_window', { default: d.preWindowS * 1000 })),
      postWindowS: seconds(cr.duration('post_window', { default: d.postWindowS * 1000 })),
      windowSignals: signalList(cr, 'window_signals', d.windowSignals),
      cooldownS: seconds(cr.duration('cooldown', { default: d.cooldownS * 1000 })),
      impactSpeedS: seconds(cr.duration('impact_speed_window', { default: d.impactSpeedS * 1000, minMs: 100 })),
      speedSignal: signal(cr, 'speed_signal', d.speedSignal),
    };
  });

  const alerts = r.list('alerts', (item) => {
    const ar = item.object();
    if (!ar) return undefined;
    const conditions = ['equals', 'above', 'below'].filter((k) => ar.has(k));
    if (conditions.length !== 1) ar.problem('needs exactly one of equals, above or below');
    const debounceMs = ar.duration('debounce', { default: 1000 });
    const alert: AlertConfig = {
      code: ar.string('code', { required: true, pattern: /^[a-z0-9_.-]{1,64}$/, hint: 'a code of lowercase letters, digits, _, . or -' }) ?? '',
      signal: signal(ar, 'signal', ''),
      equals: ar.number('equals'),
      above: ar.number('above'),
      below: ar.number('below'),
      severity: ar.oneOf('severity', SEVERITIES, { default: 'warning' }),
      message: ar.string('message', { default: '' }),
      debounceS: seconds(debounceMs),
      clearDebounceS: seconds(ar.duration('clear_debounce', { default: debounceMs })),
    };
    if (!ar.has('signal')) ar.get('signal').problem('is required');
    ar.done();
    return conditions.length === 1 ? alert : undefined;
  });

  const maintenance = part('maintenance', DEFAULT_MAINTENANCE, (mr) => {
    const d = DEFAULT_MAINTENANCE;
    const date = mr.string('next_service_date', { pattern: /^\d{4}-\d{2}-\d{2}/, hint: 'a date like 2025-06-01' });
    const thresholds = (key: string, fallback: number[]): number[] =>
      mr.has(key) ? mr.list(key, (v) => v.number({ required: true })) : fallback;
    return {
      distanceSignal: signal(mr, 'distance_signal', d.distanceSignal),
      timeSignal: signal(mr, 'time_signal', d.timeSignal),
      odometerSignal: signal(mr, 'odometer_signal', d.odometerSignal),
      nextServiceMs: date === undefined ? undefined : Date.parse(date),
      nextServiceOdometerKm: mr.number('next_service_odometer_km', { min: 0 }),
      periodS: seconds(mr.duration('period', { default: d.periodS * 1000, minMs: 1000 })),
      distanceThresholdsKm: thresholds('distance_thresholds_km', d.distanceThresholdsKm),
      dayThresholds: thresholds('day_thresholds', d.dayThresholds),
    };
  });

  const status = part('status', DEFAULT_STATUS, (sr) => {
    const d = DEFAULT_STATUS;
    const sigs = sr.object('signals');
    const signals = sigs
      ? {
          fuelLevel: signal(sigs, 'fuel_level', d.signals.fuelLevel),
          soc: signal(sigs, 'soc', d.signals.soc),
          range: signal(sigs, 'range', d.signals.range),
          odometer: signal(sigs, 'odometer', d.signals.odometer),
          lock: signal(sigs, 'lock', d.signals.lock),
        }
      : d.signals;
    sigs?.done();
    const doors = sr.has('doors')
      ? sr.list('doors', (item): DoorSignals | undefined => {
          const dr = item.object();
          if (!dr) return undefined;
          const door = { name: dr.string('name', { required: true }) ?? '', open: signal(dr, 'open', ''), locked: signal(dr, 'locked', '') };
          dr.done();
          return door;
        })
      : d.doors;
    return {
      minIntervalS: seconds(sr.duration('min_interval', { default: d.minIntervalS * 1000 })),
      moveM: sr.number('move_m', { default: d.moveM, min: 1 }),
      fuelStepPct: sr.number('fuel_step_pct', { default: d.fuelStepPct, min: 0.1 }),
      levelAverageS: seconds(sr.duration('level_average', { default: d.levelAverageS * 1000, minMs: 1000 })),
      heartbeatS: seconds(sr.duration('heartbeat', { default: d.heartbeatS * 1000 })),
      signals,
      doors,
    };
  });

  const monitors: MonitorOptions = {
    geofenceMarginM: r.number('geofence_margin_m', { default: DEFAULT_MONITOR_OPTIONS.geofenceMarginM, min: 0 }),
    geofenceDwellS: seconds(r.duration('geofence_dwell', { default: DEFAULT_MONITOR_OPTIONS.geofenceDwellS * 1000 })),
    thresholdDwellS: seconds(r.duration('threshold_dwell', { default: DEFAULT_MONITOR_OPTIONS.thresholdDwellS * 1000 })),
  };
  r.done();
  return { ignition, trip, collision, alerts, maintenance, status, monitors };
}
