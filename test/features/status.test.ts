import { describe, expect, it } from 'vitest';
import type { IStatus } from '../../proto/gen/roadlink.js';
import { Ignition } from '../../agent/rules/features/feature.js';
import { distanceM } from '../../agent/rules/features/geo.js';
import { DEFAULT_STATUS } from '../../agent/config/sections/feature-settings.js';
import { syntheticDrive } from '../helpers/synthetic-drive.js';
import { driveFeatures, runDrive } from './drive-harness.js';

describe('status', () => {
  const drive = syntheticDrive();
  const truth = drive.truth;
  let atDoorOpen: IStatus | null = null;
  const run = runDrive(drive, {
    batchSize: 16,
    afterBatch: (features, lastUs) => {
      if (!atDoorOpen && lastUs >= truth.passengerDoorOpenUs) atDoorOpen = features.snapshot();
    },
  });
  const statuses = run.of('status');
  const minInterval = DEFAULT_STATUS.minIntervalS * 1e6;

  it('snapshot() is the current state: the passenger door open at the stop', () => {
    expect(atDoorOpen!.doors).toContainEqual({ name: 'Row1.PassengerSide', open: true, locked: true });
    expect(atDoorOpen!.doors).toContainEqual({ name: 'Row1.DriverSide', open: false, locked: true });
    expect(atDoorOpen!.ignition).toBe(Ignition.ON);
    expect(atDoorOpen!.speedKmh).toBe(0);
  });

  it('emits on what matters, never more often than the minimum interval', () => {
    for (let i = 1; i < statuses.length; i++) expect(statuses[i].timeUs - statuses[i - 1].timeUs).toBeGreaterThanOrEqual(minInterval);
    const reasonsNear = (fromUs: number, toUs: number): string[] =>
      statuses.filter((s) => s.timeUs >= fromUs && s.timeUs <= toUs).flatMap((s) => s.reasons);
    // Driver door opened at 6 s, ignition on at 17 s, auto-lock above 15 km/h, the passenger door at the stop.
    expect(statuses[0].timeUs).toBeLessThanOrEqual(drive.timesUs[0] + 1e6);
    expect(reasonsNear(truth.ignitionOnUs, truth.ignitionOnUs + minInterval)).toContain('ignition');
    expect(reasonsNear(truth.passengerDoorOpenUs, truth.passengerDoorOpenUs + minInterval)).toContain('door');
    const final = statuses.at(-1)!;
    expect(final.status.ignition).toBe(Ignition.OFF);
    expect(final.status.locked).toBe(false);
    expect(statuses.some((s) => s.reasons.includes('lock') && s.status.locked)).toBe(true);
  });

  it('a door change inside the minimum interval is sent when the interval has passed, not lost', () => {
    const door = statuses.find((s) => s.reasons.includes('door') && s.timeUs >= truth.passengerDoorOpenUs)!;
    const before = statuses[statuses.indexOf(door) - 1];
    expect(door.timeUs - before.timeUs).toBeGreaterThanOrEqual(minInterval);
    expect(door.timeUs).toBeLessThanOrEqual(Math.max(truth.passengerDoorOpenUs, before.timeUs + minInterval) + 1e6);
  });

  it('movement: a status per 200 m while driving, none for GNSS jitter while parked', () => {
    const gate = truth.stops['depot-gate'];
    const parkedMoves = statuses.filter((s) => s.timeUs > gate.fromUs + minInterval && s.timeUs < gate.toUs && s.reasons.includes('moved'));
    expect(parkedMoves).toHaveLength(0);
    const moved = statuses.filter((s) => s.reasons.includes('moved'));
    // 24.8 km at most one status per 200 m (and per 10 s): well below 124, well above a handful.
    expect(moved.length).toBeGreaterThan(40);
    expect(moved.length).toBeLessThan(124);
    for (let i = 1; i < moved.length; i++) {
      const a = moved[i - 1].status.position!, b = moved[i].status.position!;
      expect(distanceM(a.lat!, a.lon!, b.lat!, b.lon!)).toBeGreaterThan(200 - 15);
    }
  });

  it('fuel steps are counted from the last status sent, on the averaged level: the sloshing noise is not a step', () => {
    // 62 % at the start (the first status), 58 % at the end: no 5 % step in between.
    expect(statuses.filter((s) => s.reasons.includes('fuel'))).toHaveLength(1);
    const fuelSteps = (status: Partial<typeof DEFAULT_STATUS>): number =>
      runDrive(drive, { features: driveFeatures({ status: { ...DEFAULT_STATUS, moveM: 1e9, ...status } }) })
        .of('status')
        .filter((s) => s.reasons.includes('fuel')).length;
    // 1 % steps over a 4 % drop: the first status and about four steps.
    expect(fuelSteps({ fuelStepPct: 1 })).toBeGreaterThanOrEqual(4);
    expect(fuelSteps({ fuelStepPct: 1 })).toBeLessThanOrEqual(6);
    // Without the averaging, the gauge noise (0.5 % steps, ±0.9 %) makes many more.
    expect(fuelSteps({ fuelStepPct: 1, levelAverageS: 0.001 })).toBeGreaterThan(10);
  });

  it('the final snapshot holds position, odometer, fuel, range and the sequence number', () => {
    const snap = run.features.snapshot()!;
    expect(distanceM(snap.position!.lat!, snap.position!.lon!, truth.collision.lat, truth.collision.lon)).toBeLessThan(11);
    expect(snap.odometerKm).toBeCloseTo(23_456.7 + truth.distanceKm, 0);
    expect(snap.fuelLevelPct).toBeGreaterThan(57);
    expect(snap.fuelLevelPct).toBeLessThan(59);
    expect(snap.rangeKm).toBeGreaterThan(400);
    expect(snap.seq).toBe(statuses.length);
    expect(statuses.map((s) => s.status.seq)).toEqual(statuses.map((_, i) => i + 1));
  });

  it('restore() starts from a persisted status: the sequence continues, the last values are known before any sample', () => {
    const saved = run.features.snapshot()!;
    const fresh = runDrive(drive, {
      setup: (features) => {
        features.status!.restore(saved);
        const snap = features.snapshot()!;
        expect(snap.odometerKm).toBe(saved.odometerKm);
        expect(snap.fuelLevelPct).toBe(saved.fuelLevelPct);
        expect(snap.seq).toBe(saved.seq);
      },
    });
    expect(fresh.of('status')[0].status.seq).toBe(Number(saved.seq) + 1);
  });
});
