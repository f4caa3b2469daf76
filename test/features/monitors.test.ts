import { describe, expect, it } from 'vitest';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { buildFeatures, type MonitorDefinitions } from '../../agent/rules/features/index.js';
import { DEFAULT_MONITOR_OPTIONS } from '../../agent/config/sections/feature-settings.js';
import { depotLocal, DEPOT_RADIUS_M, syntheticDrive, ZONE_A } from '../helpers/synthetic-drive.js';
import { contextFor, driveFeatures, driveMonitors, runDrive, type Emitted } from './drive-harness.js';
import { NmeaReader } from '../../drivers/gnss/nmea-reader.js';
import { appendFixSamples, gnssSignalIds } from '../../drivers/gnss/gnss-signals.js';
import { writeNmea } from '../helpers/nmea-route.js';
import { Priority } from '../../wire/priority.js';

const drive = syntheticDrive();
const truth = drive.truth;

function transitions(events: Emitted[], name: string): string[] {
  return events.flatMap((e) => (e.kind === 'geofence' && e.geofence.monitorId === name ? [e.geofence.entered ? 'enter' : 'exit'] : []));
}

function withHysteresis(marginM: number, dwellS: number) {
  return driveFeatures({ monitors: { ...DEFAULT_MONITOR_OPTIONS, geofenceMarginM: marginM, geofenceDwellS: dwellS } });
}

describe('geofences', () => {
  it('the vehicle stops 1.5 m from the borders while GNSS jitters: without hysteresis both fences flap', () => {
    const events = runDrive(drive, { features: withHysteresis(0, 0) }).events;
    const depot = transitions(events, 'depot');
    const zone = transitions(events, 'zone-a');
    expect(depot.length).toBeGreaterThanOrEqual(5);
    expect(zone.length).toBeGreaterThanOrEqual(5);
    // Still alternating, and ending where the vehicle really is.
    expect(depot.at(-1)).toBe('exit');
    expect(zone.at(-1)).toBe('exit');
  });

  it('with a 15 m margin: the depot is left once, zone-a entered once and left once', () => {
    const { events } = runDrive(drive, { features: withHysteresis(15, 0) });
    expect(transitions(events, 'depot')).toEqual(['exit']);
    expect(transitions(events, 'zone-a')).toEqual(['enter', 'exit']);
    const geo = events.filter((e): e is Extract<Emitted, { kind: 'geofence' }> => e.kind === 'geofence');
    const [depotExit, zoneEnter, zoneExit] = geo;
    // Reported at the first fix 15 m beyond the border: a few seconds after the true crossing.
    expect(depotExit.timeUs).toBeGreaterThanOrEqual(truth.depotExitUs);
    expect(depotExit.timeUs).toBeLessThan(truth.depotExitUs + 6e6);
    const at = depotLocal(depotExit.geofence.position!.lat!, depotExit.geofence.position!.lon!);
    expect(Math.hypot(at.e, at.n)).toBeGreaterThan(DEPOT_RADIUS_M + 15);
    expect(zoneEnter.timeUs).toBeGreaterThanOrEqual(truth.zoneEnterUs);
    expect(zoneEnter.timeUs).toBeLessThan(truth.zoneEnterUs + 6e6);
    // Leaving zone-a at 125 km/h: 15 m takes half a second, fixes come every second.
    expect(zoneExit.timeUs).toBeGreaterThanOrEqual(truth.zoneExitUs);
    expect(zoneExit.timeUs).toBeLessThan(truth.zoneExitUs + 2e6);
    expect(zoneExit.priority).toBe(Priority.normal);
    expect(zoneExit.geofence.position!.speedKmh).toBeGreaterThan(120);
  });

  it('with a dwell time alone (8 s, no margin) the jitter does not flap either', () => {
    const { events } = runDrive(drive, { features: withHysteresis(0, 8) });
    expect(transitions(events, 'depot')).toEqual(['exit']);
    expect(transitions(events, 'zone-a')).toEqual(['enter', 'exit']);
    const exit = events.find((e) => e.kind === 'geofence')!;
    // Dated at the first fix outside, confirmed 8 s later.
    expect(exit.emittedUs - exit.timeUs).toBeGreaterThanOrEqual(8e6);
  });

  it('setMonitors() keeps the state of unchanged monitors, starts new ones silently, drops removed ones', () => {
    const monitors = driveMonitors();
    const replaced: MonitorDefinitions = {
      geofences: [
        monitors.geofences[1],
        { name: 'around-zone-a', shape: 'circle', center: { lat: ZONE_A[0][1], lon: ZONE_A[0][0] }, radiusM: 100_000, priority: Priority.low },
      ],
      thresholds: [],
    };
    let insideAfterSwap: string[] | null = null;
    let swapUs = 0;
    const run = runDrive(drive, {
      features: withHysteresis(15, 0),
      afterBatch: (features, lastUs) => {
        // On the highway inside zone-a, halfway to its exit.
        if (!insideAfterSwap && lastUs > (truth.zoneEnterUs + truth.zoneExitUs) / 2) {
          features.setMonitors(replaced);
          insideAfterSwap = features.monitors.inside();
          swapUs = lastUs;
        }
      },
    });
    // zone-a kept its state through the update; the new fence knows nothing until the next fix.
    expect(insideAfterSwap).toEqual(['zone-a']);
    expect(transitions(run.events, 'depot')).toEqual(['exit']);
    expect(transitions(run.events, 'zone-a')).toEqual(['enter', 'exit']);
    expect(transitions(run.events, 'around-zone-a')).toEqual([]);
    // The threshold monitor was removed (it had crossed up before): nothing from it afterwards.
    expect(run.events.filter((e) => e.kind === 'threshold').map((e) => e.timeUs < swapUs)).toEqual([true]);
    expect(run.features.monitors.inside()).toEqual(['around-zone-a']);
  });

  it('works the same from NMEA through the GNSS driver as from position signals', () => {
    const names = ['Vehicle.CurrentLocation.Latitude', 'Vehicle.CurrentLocation.Longitude', 'Vehicle.CurrentLocation.Altitude', 'Vehicle.CurrentLocation.Heading', 'Vehicle.Speed'];
    const idOf = (n: string): number => names.indexOf(n);
    const events: Emitted[] = [];
    const clock = { batchStartUs: 0, nowUs: 0 };
    const features = buildFeatures(contextFor({ names, idOf }, events, clock), withHysteresis(15, 0), driveMonitors());
    const ids = gnssSignalIds(idOf);
    const batch = createSampleBatch(16);
    const reader = new NmeaReader('drive.nmea', (fix) => {
      batch.count = 0;
      appendFixSamples(fix, ids, batch);
      clock.nowUs = clock.batchStartUs = batch.timeUs[0];
      features.onSamples(batch.signal, batch.timeUs, batch.value, batch.count);
      features.tick(clock.nowUs);
    });
    reader.push(writeNmea(drive.track).text);
    reader.end();
    const direct = runDrive(drive, { features: withHysteresis(15, 0) }).events.filter((e) => e.kind === 'geofence');
    const viaNmea = events.filter((e) => e.kind === 'geofence');
    expect(viaNmea.map((e) => [e.geofence.monitorId, e.geofence.entered, e.timeUs])).toEqual(direct.map((e) => (e.kind === 'geofence' ? [e.geofence.monitorId, e.geofence.entered, e.timeUs] : [])));
  });
});

describe('threshold monitors', () => {
  const crossings = (hysteresis: number): boolean[] => {
    const monitors = driveMonitors();
    monitors.thresholds = monitors.thresholds.map((m) => ({ ...m, hysteresis }));
    return runDrive(drive, { monitors }).of('threshold').map((e) => e.threshold.above!);
  };

  it('coolant oscillating around 105 °C: one crossing up and one down with 4 °C of hysteresis', () => {
    const events = runDrive(drive).of('threshold');
    expect(events.map((e) => e.threshold.above)).toEqual([true, false]);
    const [up, down] = events;
    expect(up.threshold).toMatchObject({ monitorId: 'coolant-hot', signal: 'Vehicle.Powertrain.CombustionEngine.ECT' });
    expect(up.threshold.value).toBeGreaterThan(105);
    expect(up.priority).toBe(Priority.high);
    expect(up.timeUs).toBeGreaterThanOrEqual(truth.coolantOscillation.fromUs);
    expect(down.threshold.value).toBeLessThan(101);
    expect(down.timeUs).toBeGreaterThanOrEqual(truth.coolantOscillation.toUs);
  });

  it('without hysteresis it crosses at every oscillation', () => {
    expect(crossings(0).length).toBeGreaterThan(10);
  });

  it('a `below` monitor reports going down as above = false', () => {
    const monitors = driveMonitors();
    monitors.geofences = [];
    monitors.thresholds = [{ name: 'fuel-low', signal: 'Vehicle.Powertrain.FuelSystem.RelativeLevel', below: 60, hysteresis: 2, priority: Priority.normal }];
    const events = runDrive(drive, { monitors }).of('threshold');
    expect(events.map((e) => e.threshold.above)).toEqual([false]);
    expect(events[0].threshold.value).toBeLessThan(60);
  });
});
