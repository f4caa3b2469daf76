/**
 * The features' ignition is the configuration's `states.ignition`: trips and the status follow that
 * expression (compiled by the rules compiler), follow a new one from a rules update, and refuse one
 * that does not compile without changing anything.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../agent/config/config-error.js';
import { Ignition } from '../../agent/rules/features/feature.js';
import { buildFeatures, type FeatureSet } from '../../agent/rules/features/index.js';
import { IGNITION, SIGNALS } from '../helpers/synthetic-drive.js';
import { contextFor, driveFeatures, driveIgnition, driveMonitors, type Emitted } from './drive-harness.js';

const T0 = 1_700_000_000;
const names: string[] = [SIGNALS.ignition, SIGNALS.speed, SIGNALS.driverOpen];
const drive = { names, idOf: (n: string) => names.indexOf(n) };

/** A FeatureSet over three signals; `push(s, signal, value)` feeds one sample at T0 + s seconds. */
function vehicle(states: Record<string, string>) {
  const events: Emitted[] = [];
  const clock = { batchStartUs: 0, nowUs: 0 };
  const features: FeatureSet = buildFeatures(contextFor(drive, events, clock), driveFeatures({ ignition: driveIgnition(states) }), driveMonitors());
  const push = (s: number, signal: string, value: number): void => {
    clock.nowUs = clock.batchStartUs = (T0 + s) * 1e6;
    features.onSamples(Uint32Array.of(drive.idOf(signal)), Float64Array.of(clock.nowUs), Float64Array.of(value), 1);
    features.tick(clock.nowUs);
  };
  const trips = () => events.flatMap((e) => (e.kind === 'trip' ? [[e.trip.departureMs! / 1000 - T0, e.trip.arrivalMs! / 1000 - T0]] : []));
  return { features, push, trips };
}

/** The key at `key` from `from` to `to` s (one sample a second), then the speed at 30 km/h meanwhile. */
function keyAndSpeed(v: ReturnType<typeof vehicle>, phases: [from: number, to: number, key: number][]): void {
  for (const [from, to, key] of phases) {
    for (let s = from; s < to; s++) {
      v.push(s, SIGNALS.ignition, key);
      v.push(s + 0.5, SIGNALS.speed, key >= IGNITION.ON ? 30 : 0);
    }
  }
}

describe('ignition from states.ignition', () => {
  it('a trip lasts exactly while the expression holds, through another state it names', () => {
    const v = vehicle({ ignition: 'powered and not Vehicle.Cabin.Door.Row1.DriverSide.IsOpen', powered: `${SIGNALS.ignition} >= ${IGNITION.ON}` });
    v.push(0, SIGNALS.driverOpen, 0);
    keyAndSpeed(v, [[1, 100, IGNITION.ACC], [100, 250, IGNITION.ON]]);
    // The driver door opens with the key still ON: by this definition the ignition is off.
    v.push(250, SIGNALS.driverOpen, 1);
    keyAndSpeed(v, [[251, 260, IGNITION.ON]]);
    expect(v.trips()).toEqual([[100, 250]]);
    expect(v.features.snapshot()!.ignition).toBe(Ignition.OFF);
  });

  it('setStates() moves the trips to a new definition; one that does not compile is refused and changes nothing', () => {
    const v = vehicle({ ignition: `${SIGNALS.ignition} >= ${IGNITION.ON}` });
    keyAndSpeed(v, [[0, 100, IGNITION.ACC]]);
    expect(v.features.snapshot()!.ignition).toBe(Ignition.OFF);
    expect(() => v.features.setStates({ ignition: `${SIGNALS.ignition} >= ` })).toThrow(ConfigError);
    expect(() => v.features.setStates({ ignition: 'Vehicle.Ignition == 1' })).toThrow(/states\.ignition: unknown signal 'Vehicle\.Ignition'/);
    keyAndSpeed(v, [[100, 110, IGNITION.ACC]]);
    expect(v.features.snapshot()!.ignition).toBe(Ignition.OFF);
    // Accessory counts from now on; the next key sample decides.
    v.features.setStates({ ignition: `${SIGNALS.ignition} >= ${IGNITION.ACC}` });
    keyAndSpeed(v, [[110, 200, IGNITION.ACC], [200, 210, IGNITION.OFF]]);
    expect(v.trips()).toEqual([[110, 200]]);
  });

  it('a definition on other signals re-routes them (the speed, here)', () => {
    const v = vehicle({ ignition: `${SIGNALS.ignition} >= ${IGNITION.ON}` });
    v.features.setStates({ ignition: `${SIGNALS.speed} > 10` });
    keyAndSpeed(v, [[0, 100, IGNITION.ON], [100, 110, IGNITION.OFF]]);
    // Speed samples come half a second after the key ones.
    expect(v.trips()).toEqual([[0.5, 100.5]]);
  });

  it('without states.ignition: no trips, the status reports the ignition as unknown', () => {
    const v = vehicle({});
    keyAndSpeed(v, [[0, 200, IGNITION.ON], [200, 210, IGNITION.OFF]]);
    expect(v.trips()).toEqual([]);
    expect(v.features.snapshot()!.ignition).toBe(Ignition.UNSPECIFIED);
  });
});
