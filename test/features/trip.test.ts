import { describe, expect, it } from 'vitest';
import { DistanceSource, PositionSource } from '../../agent/rules/features/feature.js';
import { distanceM } from '../../agent/rules/features/geo.js';
import { DEPOT, IGNITION, SIGNALS, syntheticDrive } from '../helpers/synthetic-drive.js';
import { contextFor, driveFeatures, driveMonitors, emittedAtOnce, runDrive, type Emitted } from './drive-harness.js';
import { buildFeatures, positionSourceFor } from '../../agent/rules/features/index.js';

describe('trip', () => {
  const drive = syntheticDrive();
  const truth = drive.truth;
  const { of } = runDrive(drive);
  const trips = of('trip');

  it('is one record per ignition cycle, sent when the ignition goes off', () => {
    expect(trips).toHaveLength(1);
    expect(trips[0].timeUs).toBe(truth.ignitionOffUs);
    expect(emittedAtOnce(trips[0])).toBe(true);
  });

  it('measures distance by odometer within 1% of the integrated ground truth, and times, speeds and fuel', () => {
    const trip = trips[0].trip;
    expect(trip.distanceSource).toBe(DistanceSource.ODOMETER);
    expect(Math.abs(trip.distanceKm! - truth.distanceKm) / truth.distanceKm).toBeLessThan(0.01);
    expect(trip.departureMs).toBe(Math.round(truth.ignitionOnUs / 1000));
    expect(trip.arrivalMs).toBe(Math.round(truth.ignitionOffUs / 1000));
    expect(trip.durationS).toBe(Math.round((truth.ignitionOffUs - truth.ignitionOnUs) / 1e6));
    expect(trip.maxSpeedKmh).toBeCloseTo(truth.maxSpeedKmh, 1);
    expect(trip.avgSpeedKmh).toBeCloseTo(trip.distanceKm! / (((truth.ignitionOffUs - truth.ignitionOnUs) / 1e6) / 3600), 6);
    // The fuel-consumed counter has 0.01 l steps.
    expect(Math.abs(trip.fuelUsedL! - truth.fuelUsedL)).toBeLessThan(0.02);
    expect(trip.tripId).toBe(`trip-${trip.departureMs}`);
  });

  it('records departure and arrival positions', () => {
    const trip = trips[0].trip;
    // Parked at the depot centre; GNSS noise is at most 7.5 m per axis.
    expect(distanceM(trip.departure!.lat!, trip.departure!.lon!, DEPOT.lat, DEPOT.lon)).toBeLessThan(11);
    expect(trip.departure!.source).toBe(PositionSource.GNSS);
    expect(positionSourceFor(new Set(['Vehicle.Speed']))).toBe(PositionSource.GNSS);
    expect(positionSourceFor(new Set(['Vehicle.CurrentLocation.Latitude', 'Vehicle.CurrentLocation.Longitude']))).toBe(PositionSource.CAN);
    expect(distanceM(trip.arrival!.lat!, trip.arrival!.lon!, truth.collision.lat, truth.collision.lon)).toBeLessThan(11);
  });

  it('integrates speed when the vehicle has no odometer, and estimates fuel from the level and the tank', () => {
    const bare = syntheticDrive({ odometer: false, fuelCounter: false });
    const trip = runDrive(bare).of('trip')[0].trip;
    expect(trip.distanceSource).toBe(DistanceSource.INTEGRATED_SPEED);
    expect(Math.abs(trip.distanceKm! - bare.truth.distanceKm) / bare.truth.distanceKm).toBeLessThan(0.01);
    // Level: 0.5 % steps with sloshing noise, averaged over a minute at each end (1 % of 50 l = 0.5 l).
    expect(Math.abs(trip.fuelUsedL! - bare.truth.fuelUsedL)).toBeLessThan(0.15);
    expect(trip.fuelUsedL).toBeGreaterThan(0);
  });

  it('the odometer and the integral agree with each other on the same drive', () => {
    const withOdo = trips[0].trip.distanceKm!;
    const integrated = runDrive(syntheticDrive({ odometer: false })).of('trip')[0].trip.distanceKm!;
    // The odometer has 0.1 km steps (floor): the two differ by less than one step.
    expect(Math.abs(withOdo - integrated)).toBeLessThan(0.1);
  });
});

describe('trip boundaries', () => {
  const names: string[] = [SIGNALS.ignition, SIGNALS.speed];
  const drive = { names, idOf: (n: string) => names.indexOf(n) };

  function feed(series: [number, number, number][], tickToS: number): Emitted[] {
    const events: Emitted[] = [];
    const clock = { batchStartUs: 0, nowUs: 0 };
    const features = buildFeatures(contextFor(drive, events, clock), driveFeatures({ trip: { ...driveFeatures().trip!, minDurationS: 60 } }), driveMonitors());
    const ids = Uint32Array.from(series.map((s) => s[1]));
    const times = Float64Array.from(series.map((s) => s[0] * 1e6));
    const values = Float64Array.from(series.map((s) => s[2]));
    for (let i = 0; i < series.length; i++) {
      clock.nowUs = clock.batchStartUs = times[i];
      features.onSamples(ids.subarray(i, i + 1), times.subarray(i, i + 1), values.subarray(i, i + 1), 1);
    }
    for (let t = series.at(-1)![0]; t <= tickToS; t++) {
      clock.nowUs = clock.batchStartUs = t * 1e6;
      features.tick(clock.nowUs);
    }
    return events.filter((e) => e.kind === 'trip');
  }

  /** Ignition samples every second from `from` to `to` (s) with `value`. */
  const ignition = (from: number, to: number, value: number): [number, number, number][] =>
    Array.from({ length: to - from }, (_, k) => [1_700_000_000 + from + k, 0, value]);
  const speed = (from: number, to: number, kmh: number): [number, number, number][] =>
    Array.from({ length: (to - from) * 10 }, (_, k) => [1_700_000_000 + from + k / 10 + 0.05, 1, kmh]);
  const merge = (...parts: [number, number, number][][]): [number, number, number][] => parts.flat().sort((a, b) => a[0] - b[0]);

  it('drops a trip shorter than the minimum duration', () => {
    const trips = feed(merge(ignition(0, 30, IGNITION.ON), ignition(30, 40, IGNITION.OFF), speed(5, 25, 20)), 0);
    expect(trips).toHaveLength(0);
  });

  it('ends a trip when the ignition signal falls silent (bus asleep) after the timeout, at its last sample', () => {
    const series = merge(ignition(0, 300, IGNITION.ON), speed(0, 290, 36));
    const trips = feed(series, 1_700_000_000 + 400);
    expect(trips).toHaveLength(1);
    const trip = trips[0];
    expect(trip.timeUs).toBe((1_700_000_000 + 299) * 1e6);
    expect(trip.emittedUs).toBeGreaterThan(trip.timeUs + 60e6);
    if (trip.kind !== 'trip') throw new Error('not a trip');
    // 36 km/h for 290 s = 2.9 km (the first interval starts at the trip start).
    expect(trip.trip.distanceKm).toBeCloseTo(2.9, 2);
    expect(trip.trip.distanceSource).toBe(DistanceSource.INTEGRATED_SPEED);
    expect(trip.trip.departure).toBeNull();
  });

  it('an ACC position does not start a trip; going from ON to ACC ends it', () => {
    const trips = feed(merge(ignition(0, 100, IGNITION.ACC), ignition(100, 200, IGNITION.ON), ignition(200, 260, IGNITION.ACC), speed(110, 190, 50)), 0);
    expect(trips).toHaveLength(1);
    expect(trips[0].timeUs).toBe((1_700_000_000 + 200) * 1e6);
  });
});
