import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { plainContext, ValueNode } from '../../agent/config/config-reader.js';
import { formatIssues } from '../../agent/config/config-error.js';
import { DEFAULT_FEATURES, readFeatures, type FeaturesEnv } from '../../agent/config/sections/features.js';
import { SIGNALS } from '../helpers/synthetic-drive.js';

const env: FeaturesEnv = {
  signalNames: Object.values(SIGNALS),
  states: { ignition: `${SIGNALS.ignition} >= 2` },
  profile: { model_year: 2021 },
};

function read(yamlText: string, states = env.states) {
  const context = plainContext('/etc/roadlink');
  const features = readFeatures(new ValueNode(parse(yamlText), ['features'], context), { ...env, states });
  return { features, issues: context.issues.map((i) => `${i.path}: ${i.message}`) };
}

describe('features config', () => {
  it('absent: every feature on with its VSS defaults, the ignition from the states', () => {
    const { features, issues } = read('');
    expect(issues).toEqual([]);
    expect(features).toEqual({ ...DEFAULT_FEATURES, ignition: { ...env, timeoutS: 60 } });
  });

  it('reads each part, with durations, and `false` turns a part off', () => {
    const { features, issues } = read(`
ignition_timeout: 2m
trip: { min_duration: 90s, tank_capacity_l: 50, signals: { odometer: Vehicle.TraveledDistance } }
collision:
  airbag: false
  acceleration: { signals: [Vehicle.Acceleration.Longitudinal], threshold_g: 3, unit: g }
  pre_window: 20s
  window_signals: [Vehicle.Speed]
alerts:
  - { code: tyre_pressure, signal: Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.IsPressureLow, equals: 1, debounce: 2s, clear_debounce: 5s }
  - { code: coolant, signal: Vehicle.Powertrain.CombustionEngine.ECT, above: 110, severity: critical, message: Overheating }
maintenance: { next_service_date: 2025-06-01, day_thresholds: [14, 0], period: 12h }
status: false
geofence_margin_m: 25
geofence_dwell: 10s
threshold_dwell: 2s
`);
    expect(issues).toEqual([]);
    expect(features.ignition).toEqual({ states: env.states, signalNames: env.signalNames, profile: env.profile, timeoutS: 120 });
    expect(features.trip).toMatchObject({ minDurationS: 90, tankCapacityL: 50, levelAverageS: 60 });
    expect(features.trip!.signals.odometer).toBe(SIGNALS.odometer);
    expect(features.collision).toMatchObject({ airbag: undefined, preWindowS: 20, postWindowS: 5, windowSignals: [SIGNALS.speed] });
    expect(features.collision!.acceleration).toEqual({ signals: [SIGNALS.accelLong], thresholdG: 3, unit: 'g' });
    expect(features.alerts).toEqual([
      { code: 'tyre_pressure', signal: SIGNALS.tyreLow, equals: 1, above: undefined, below: undefined, severity: 'warning', message: '', debounceS: 2, clearDebounceS: 5 },
      { code: 'coolant', signal: SIGNALS.coolant, equals: undefined, above: 110, below: undefined, severity: 'critical', message: 'Overheating', debounceS: 1, clearDebounceS: 1 },
    ]);
    expect(features.maintenance).toMatchObject({ nextServiceMs: Date.UTC(2025, 5, 1), dayThresholds: [14, 0], distanceThresholdsKm: [1000, 0], periodS: 43_200 });
    expect(features.status).toBeNull();
    expect(features.monitors).toEqual({ geofenceMarginM: 25, geofenceDwellS: 10, thresholdDwellS: 2 });
  });

  it('reports every mistake with its key path', () => {
    const { issues } = read(`
ignition: { signal: Vehicle.LowVoltageSystemState, on_at_least: 2 }
trip: { min_duraton: 1m }
collision: { pre_window: 10 }
alerts:
  - { code: Oil, signal: Vehicle.OBD.Oil, above: 1, below: 0 }
status: { move_m: -5 }
`);
    expect(issues).toEqual([
      'features.ignition: the ignition is defined once, as states.ignition (an expression such as "Vehicle.LowVoltageSystemState >= 2"), ' +
        'which drives both the ignition_on/off events and the trips; the silence timeout is features.ignition_timeout',
      "features.trip.min_duraton: unknown key (did you mean 'min_duration'?)",
      'features.collision.pre_window: must be a duration like "10s" or "500ms", got 10',
      'features.alerts[0]: needs exactly one of equals, above or below',
      'features.alerts[0].code: must be a code of lowercase letters, digits, _, . or -, got "Oil"',
      "features.alerts[0].signal: unknown signal 'Vehicle.OBD.Oil' (not in signals:)",
      'features.status.move_m: must be >= 1, got -5',
    ]);
    expect(formatIssues(read('trip: 5').issues.map((m) => ({ path: '', message: m })))).toMatch(/features.trip: must be a mapping/);
  });

  it('a trip section without states.ignition is refused; left to its defaults, trips simply never start', () => {
    expect(read('trip: { min_duration: 2m }', {}).issues).toEqual(['features.trip: needs states.ignition: a trip lasts from ignition on to ignition off']);
    expect(read('status: { heartbeat: 1m }', {}).issues).toEqual([]);
  });
});
