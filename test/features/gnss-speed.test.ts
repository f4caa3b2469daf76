/**
 * A vehicle whose CAN catalog has no speed: with a GNSS source, Vehicle.Speed is the GNSS ground speed
 * (agent/config/sections/gnss.ts), so the trip integrates it and the status reports it. The NMEA text
 * goes through the real GNSS reader; the ignition is the configuration's states.ignition.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vehicleSignalNames } from '../../agent/config/config.js';
import { parseAgentConfig } from '../../agent/runtime/agent-config.js';
import { createSampleBatch } from '../../agent/decode/sample-batch.js';
import { DistanceSource } from '../../agent/rules/features/feature.js';
import { buildFeatures, positionSourceFor } from '../../agent/rules/features/index.js';
import { appendFixSamples, gnssSignalIds } from '../../drivers/gnss/gnss-signals.js';
import { NmeaReader } from '../../drivers/gnss/nmea-reader.js';
import { writeNmea } from '../helpers/nmea-route.js';
import { SIGNALS, syntheticDrive } from '../helpers/synthetic-drive.js';
import { contextFor, type Emitted } from './drive-harness.js';

const DBC = resolve(import.meta.dirname, '../../examples/dbc/psa_aee2010_r3.dbc');

function config(dir: string, catalog: string) {
  return parseAgentConfig(
    `vehicle: { vin: VR3UHZKXZMT000001, brand: Peugeot, model: "208", fuel_type: petrol, model_year: 2021 }
buses: [{ name: body, driver: socketcan, interface: can0, dbc: [${JSON.stringify(DBC)}] }]
signals:
${catalog}
states: { ignition: "Roadlink.Ignition >= 2" }
gnss: { file: drive.nmea }
features: { trip: { min_duration: 1m } }
`,
    { baseDir: dir },
  );
}

describe('GNSS speed', () => {
  const drive = syntheticDrive({ odometer: false });
  const dir = mkdtempSync(join(tmpdir(), 'roadlink-gnss-speed-'));
  writeFileSync(join(dir, 'drive.nmea'), writeNmea(drive.track).text);

  it('is Vehicle.Speed when the catalog has no speed, and is not added when it has one', () => {
    const withoutCan = vehicleSignalNames(config(dir, '  Roadlink.Ignition: RESTRAINTS.IGNITION'));
    expect(withoutCan[0]).toBe('Roadlink.Ignition');
    expect(withoutCan).toContain('Vehicle.Speed');
    const withCan = vehicleSignalNames(config(dir, '  Roadlink.Ignition: RESTRAINTS.IGNITION\n  Vehicle.Speed: HS2_DYN_ABR_38D.VITESSE_VEHICULE_ROUES'));
    expect(withCan.filter((n) => n === 'Vehicle.Speed')).toHaveLength(1);
    expect(withCan.indexOf('Vehicle.Speed')).toBe(1);
  });

  it('a trip without CAN speed integrates the GNSS speed; the status reports it', () => {
    const cfg = config(dir, '  Roadlink.Ignition: RESTRAINTS.IGNITION');
    const names = vehicleSignalNames(cfg);
    const idOf = (name: string) => names.indexOf(name);
    // The CAN side of the drive: its ignition samples, as Roadlink.Ignition.
    const samples: [timeUs: number, id: number, value: number][] = [];
    for (let k = 0; k < drive.count; k++) {
      if (drive.ids[k] === drive.idOf(SIGNALS.ignition)) samples.push([drive.timesUs[k], idOf('Roadlink.Ignition'), drive.values[k]]);
    }
    // The GNSS side, through the NMEA reader and the driver's sample writer.
    const fixBatch = createSampleBatch(16);
    const gnssIds = gnssSignalIds(idOf);
    const reader = new NmeaReader('drive.nmea', (fix) => {
      fixBatch.count = 0;
      appendFixSamples(fix, gnssIds, fixBatch);
      for (let k = 0; k < fixBatch.count; k++) samples.push([fixBatch.timeUs[k], fixBatch.signal[k], fixBatch.value[k]]);
    });
    reader.push(writeNmea(drive.track).text);
    reader.end();
    samples.sort((a, b) => a[0] - b[0]);

    const events: Emitted[] = [];
    const clock = { batchStartUs: 0, nowUs: 0 };
    const ctx = { ...contextFor({ names, idOf }, events, clock), positionSource: positionSourceFor(new Set(cfg.signals.map((s) => s.name))) };
    const features = buildFeatures(ctx, cfg.features, cfg.monitors);
    let maxSnapshotSpeed = 0;
    for (let i = 0; i < samples.length; i += 64) {
      const part = samples.slice(i, i + 64);
      clock.batchStartUs = part[0][0];
      clock.nowUs = part.at(-1)![0];
      features.onSamples(Uint32Array.from(part, (s) => s[1]), Float64Array.from(part, (s) => s[0]), Float64Array.from(part, (s) => s[2]), part.length);
      features.tick(clock.nowUs);
      maxSnapshotSpeed = Math.max(maxSnapshotSpeed, features.snapshot()!.speedKmh!);
    }

    const trips = events.filter((e) => e.kind === 'trip');
    expect(trips).toHaveLength(1);
    const trip = trips[0].kind === 'trip' ? trips[0].trip : undefined;
    expect(trip!.distanceSource).toBe(DistanceSource.INTEGRATED_SPEED);
    expect(trip!.departureMs).toBe(Math.round(drive.truth.ignitionOnUs / 1000));
    // 1 Hz GNSS speed in 0.1 knot steps against the exact integral of the drive's speed.
    expect(Math.abs(trip!.distanceKm! - drive.truth.distanceKm) / drive.truth.distanceKm).toBeLessThan(0.02);
    expect(maxSnapshotSpeed).toBeGreaterThan(drive.truth.maxSpeedKmh - 2);
    expect(maxSnapshotSpeed).toBeLessThan(drive.truth.maxSpeedKmh + 2);
  });
});
