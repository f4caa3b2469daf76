import { describe, expect, it } from 'vitest';
import { DEFAULT_MAINTENANCE } from '../../agent/config/sections/feature-settings.js';
import { buildFeatures } from '../../agent/rules/features/index.js';
import { DRIVE_START_MS, SIGNALS, syntheticDrive } from '../helpers/synthetic-drive.js';
import { contextFor, driveFeatures, driveMonitors, runDrive, type Emitted } from './drive-harness.js';
import { Priority } from '../../wire/priority.js';

describe('maintenance', () => {
  const drive = syntheticDrive();
  const truth = drive.truth;

  it('reports when the distance to service crosses 1000 km, once, and periodically', () => {
    const features = driveFeatures({ maintenance: { ...DEFAULT_MAINTENANCE, periodS: 300 } });
    const reports = runDrive(drive, { features }).of('maintenance');
    const crossings = reports.filter((r) => r.maintenance.thresholdCrossed);
    expect(crossings).toHaveLength(1);
    expect(crossings[0].timeUs).toBe(truth.service1000Us);
    expect(crossings[0].maintenance).toMatchObject({ threshold: 'distance_km<=1000', distanceToServiceKm: 1000 });
    expect(crossings[0].priority).toBe(Priority.normal);
    const periodic = reports.filter((r) => !r.maintenance.thresholdCrossed);
    // The first report as soon as a value is known, then one every 5 minutes of the ~23-minute recording
    // (plus the 2 minutes of ticks after it); a crossing restarts the period.
    expect(periodic[0].timeUs - DRIVE_START_MS * 1000).toBeLessThan(2e6);
    expect(periodic[0].maintenance.distanceToServiceKm).toBe(1012);
    expect(periodic.length).toBeGreaterThanOrEqual(4);
    expect(periodic.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < reports.length; i++) expect(reports[i].timeUs - reports[i - 1].timeUs).toBeGreaterThanOrEqual(0);
    periodic.slice(1).forEach((r, i) => {
      const previous = reports[reports.indexOf(r) - 1];
      expect(r.timeUs - previous.timeUs, `report ${i + 1}`).toBeGreaterThanOrEqual(300e6);
      expect(r.priority).toBe(Priority.low);
    });
  });

  it('counts days from the configured service date, and distance from the configured odometer reading', () => {
    const tenMinutesIn = DRIVE_START_MS + 10 * 60_000;
    const features = driveFeatures({
      maintenance: {
        ...DEFAULT_MAINTENANCE,
        distanceSignal: 'Vehicle.Service.NotOnThisVehicle',
        nextServiceMs: tenMinutesIn + 30 * 86_400_000,
        nextServiceOdometerKm: 23_456.73 + 12,
        dayThresholds: [30, 7, 0],
      },
    });
    const crossings = runDrive(drive, { features }).of('maintenance').filter((r) => r.maintenance.thresholdCrossed);
    expect(crossings.map((c) => c.maintenance.threshold)).toEqual(['days<=30', 'distance_km<=0']);
    const [days, km] = crossings;
    // Days are evaluated at each tick (about once a second).
    expect(days.timeUs - tenMinutesIn * 1000).toBeGreaterThanOrEqual(0);
    expect(days.timeUs - tenMinutesIn * 1000).toBeLessThan(2e6);
    expect(days.maintenance.daysToService).toBe(30);
    // The 1000 km threshold was already passed at the first value (12 km left): not reported as a crossing.
    expect(km.maintenance.distanceToServiceKm).toBeLessThanOrEqual(0);
    expect(km.priority).toBe(Priority.high);
  });

  it('fires a threshold again after a service reset re-arms it', () => {
    const names: string[] = [SIGNALS.distanceToService];
    const events: Emitted[] = [];
    const clock = { batchStartUs: 0, nowUs: 0 };
    const features = buildFeatures(contextFor({ names, idOf: (n) => names.indexOf(n) }, events, clock), driveFeatures(), driveMonitors());
    const values = [1003, 1001, 1000, 999, 1000.5, 1000, 998, 20, 0, -3, 15000, 12000, 990, 500];
    values.forEach((v, k) => {
      clock.nowUs = clock.batchStartUs = (1_700_000_000 + k * 3600) * 1e6;
      features.onSamples(Uint32Array.of(0), Float64Array.of(clock.nowUs), Float64Array.of(v), 1);
    });
    const crossed = events.flatMap((e) => (e.kind === 'maintenance' && e.maintenance.thresholdCrossed ? [`${e.maintenance.threshold}@${e.maintenance.distanceToServiceKm}`] : []));
    // Small ups and downs around 1000 km do not fire it twice; the reset to 15000 km does re-arm both.
    expect(crossed).toEqual(['distance_km<=1000@1000', 'distance_km<=0@0', 'distance_km<=1000@990']);
  });
});
